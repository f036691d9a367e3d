"""Real faces: a photo or a template video of a person, animated on the CPU.

``media`` opens and checks the files, ``landmarks`` finds faces and their 468 landmarks
(MediaPipe's models, run with LiteRT), ``prepare`` finds and frames the face, ``warp`` moves
the lips, jaw, eyelids and brows (with ``geometry``'s sampling and drawing), ``photo`` and
``video`` are the renderers and ``backends`` their persona kinds. ``wav2lip`` draws either with
the mouths of the neural lip-sync model (``engine.models.lipsync``) instead.
"""
