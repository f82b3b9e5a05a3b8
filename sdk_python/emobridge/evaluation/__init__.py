"""Evaluation: owns lip-sync measurement of baked animations on real speech.

Rig-true metrics (``lipsync_metrics``): the animation's ARKit-52 weights are applied to the ICT-FaceKit head
(``emobridge.render.FaceMesh``; the mesh lives in ``../shared`` and is never copied into the repo), the
inner-lip gap is measured in cm at every frame (``lip_gap``) and compared with phone timings from forced
alignment of the transcript. The definitions and targets are those of ``shared/design/quality.md``
(``TARGETS``); ``find_clips`` gathers a folder of clips with transcripts for ``emobridge eval``.
"""

from __future__ import annotations

from emobridge.evaluation.lipsync import (
    METRICS,
    TARGETS,
    find_clips,
    lip_gap,
    lipsync_metrics,
    meets_target,
    opening_curve,
)

__all__ = ["METRICS", "TARGETS", "find_clips", "lip_gap", "lipsync_metrics", "meets_target", "opening_curve"]
