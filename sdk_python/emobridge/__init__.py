"""emobridge: speech-driven, emotion-controllable ARKit-52 face animation for game engines.

Package map (one folder per concern):
    rig        ARKit names, name normalisation, visemes (tables in face_tables.json)
    emotion    continuous emotion space, aliases, valence/arousal, damped transitions, keyframe tracks
    audio      decoding, resampling, features
    phonetics  forced alignment (PocketSphinx), phone recognition, phone -> viseme
    animate    procedural animator: coarticulation, emotion overlays, blinks, gaze, head
    render     software renderer of the ICT-FaceKit head for previews and contact sheets
    animation  the Animation JSON contract shared by bake, export and evaluation
    bake       clip in, animation out: the one entry point the CLI and the sidecar share
    cli        the `emobridge` command
"""

__version__ = "0.1.0"
