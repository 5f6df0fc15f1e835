"""The playback API: ``/ace/getstream``, ``/ace/manifest.m3u8``, ``/hls/manifest.m3u8`` and
the session URLs they hand out (stream, playlist, stat, command, event)."""
