"""WebRTC media: peer connections, audio in, voice out, recording, relay to observers."""
