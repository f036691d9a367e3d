"""Neural lip-sync: the Wav2Lip network (``model``), its audio features (``features``), the batcher
every render shares (``batcher``) and, on a Ray cluster, the actor that holds it (``cluster``).
The "wav2lip" renderer that pastes its mouths into frames is ``engine.face.wav2lip``."""
