// EmoBridgeEmotionArrays.h - an emotion map as the parallel C arrays emobridge.h takes (names + values).
#pragma once

#include "Containers/Array.h"
#include "Containers/Map.h"
#include "Containers/StringConv.h"
#include "UObject/NameTypes.h"

/** UTF-8 names and values of an emotion map, valid while this object lives (pass them straight to
 *  eb_stream_open's config or eb_stream_set_emotion, which copy them). */
struct FEmoBridgeEmotionArrays
{
	explicit FEmoBridgeEmotionArrays(const TMap<FName, float>& Emotion)
	{
		Utf8.Reserve(Emotion.Num());  // no reallocation below: the name pointers point into these conversions
		for (const TPair<FName, float>& Entry : Emotion)
		{
			const FTCHARToUTF8& Name = Utf8.Emplace_GetRef(*Entry.Key.ToString());
			Names.Add(Name.Get());
			Values.Add(Entry.Value);
		}
	}

	TArray<FTCHARToUTF8> Utf8;
	TArray<const char*> Names;
	TArray<float> Values;

	uint32 Num() const { return uint32(Names.Num()); }
};
