"""Rewrites one `__metadata__` value of a safetensors checkpoint in place:
set_metadata.py FILE KEY VALUE (standard library only)."""
import json
import struct
import sys

path, key, value = sys.argv[1:4]
with open(path, "rb") as f:
    data = f.read()
(size,) = struct.unpack("<Q", data[:8])
header = json.loads(data[8:8 + size])
header.setdefault("__metadata__", {})[key] = value
text = json.dumps(header, separators=(",", ":")).encode()
text += b" " * (-len(text) % 8)
with open(path, "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + data[8 + size:])
