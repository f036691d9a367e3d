"""Neural lip-sync: the Wav2Lip network, its audio features, a batcher shared by every render,
and the ``wav2lip`` renderer that pastes its mouths into photo and template-video frames."""
