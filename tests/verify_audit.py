#!/usr/bin/env python3
"""Independent verifier for callvault's audit log.

Written only from RFC 6962 / RFC 9162 (Merkle trees over SHA-256) and the C2SP
specifications c2sp.org/signed-note, c2sp.org/tlog-checkpoint and
c2sp.org/tlog-proof. It shares no code with the vault. Needs Python 3 and the
`cryptography` package (Ed25519 only).

Usage:
  verify_audit.py --vkey VKEY checkpoint NOTE_FILE
  verify_audit.py --vkey VKEY inclusion --leaf-b64 B64 PROOF_FILE
  verify_audit.py --vkey VKEY consistency --old NOTE_FILE --new NOTE_FILE PROOF_FILE
  verify_audit.py --vkey VKEY bundle DIR

`bundle DIR` checks the audit material of an unpacked export bundle (DIR is its
`callvault-export-<id>` directory): DIR/data/audit/checkpoint.txt, then for
every DIR/data/audit/entries/<n>.json its <n>.tlog-proof (index n, embedded
note byte-equal to checkpoint.txt, inclusion of the exact .json bytes). A
proof without an entry, an entry without a proof and an empty set are refused.

VKEY is `name+hexkeyid+base64(0x01 || public key)`; --vkey may be repeated and
`--vkey @FILE` reads it from a file. FILE `-` is standard input. Add
`--origin ORIGIN` to require the checkpoint origin. Exit status: 0 verified,
1 refused (with a message on stderr), 2 usage error.
"""

import argparse
import base64
import binascii
import hashlib
import os
import re
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

EM_DASH_PREFIX = "\u2014 "
PROOF_HEADER = "c2sp.org/tlog-proof@v1"
DECIMAL = re.compile(r"^(0|[1-9][0-9]*)$")
MAX_SIGNATURES = 100
MAX_U64 = 2**64 - 1


class Refused(Exception):
    """The input does not verify."""


# ---- encodings ---------------------------------------------------------------


def b64decode(text, what):
    """Strict RFC 4648 section 4 base64: padded, canonical, no stray characters."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise Refused(f"{what}: invalid base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise Refused(f"{what}: non-canonical base64")
    return raw


def decimal(text, what):
    if not DECIMAL.match(text) or int(text) > MAX_U64:
        raise Refused(f"{what}: not a canonical decimal")
    return int(text)


def read_text(path):
    if path == "-":
        data = sys.stdin.buffer.read()
    else:
        with open(path, "rb") as f:
            data = f.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(f"{path}: not UTF-8") from None


# ---- c2sp.org/signed-note ------------------------------------------------------


def valid_key_name(name):
    return name != "" and "+" not in name and not any(c.isspace() for c in name)


class VerifierKey:
    def __init__(self, vkey):
        parts = vkey.split("+", 2)
        if len(parts) != 3:
            raise Refused("vkey: expected name+keyid+key")
        name, key_hex, key_b64 = parts
        if not valid_key_name(name):
            raise Refused("vkey: invalid key name")
        if not re.fullmatch(r"[0-9a-f]{8}", key_hex):
            raise Refused("vkey: key id is not 8 lowercase hex digits")
        raw = b64decode(key_b64, "vkey")
        if len(raw) != 33 or raw[0] != 0x01:
            raise Refused("vkey: not an Ed25519 (type 0x01) 32-byte key")
        key_id = hashlib.sha256(name.encode("utf-8") + b"\n" + raw).digest()[:4]
        if key_id.hex() != key_hex:
            raise Refused("vkey: key id does not match name and key")
        self.name = name
        self.key_id = key_id
        self.public_key = Ed25519PublicKey.from_public_bytes(raw[1:])


def open_note(note, keys):
    """Returns the note text if a trusted key signed it (c2sp.org/signed-note)."""
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise Refused("note: control character")
    if not note.endswith("\n"):
        raise Refused("note: does not end in a newline")
    cut = note.rfind("\n\n")
    if cut < 0:
        raise Refused("note: no blank line before the signatures")
    text, signature_block = note[: cut + 1], note[cut + 2 :]
    lines = signature_block.split("\n")[:-1]
    if not lines or len(lines) > MAX_SIGNATURES:
        raise Refused("note: no signature lines, or too many")
    verified = set()
    for line in lines:
        if not line.startswith(EM_DASH_PREFIX):
            raise Refused("note: signature line does not start with an em dash")
        name, sep, sig_b64 = line[len(EM_DASH_PREFIX) :].partition(" ")
        if not sep or not valid_key_name(name):
            raise Refused("note: malformed signature line")
        raw = b64decode(sig_b64, "signature")
        if len(raw) < 5:
            raise Refused("note: signature too short")
        key_id, signature = raw[:4], raw[4:]
        for key in keys:
            if key.name == name and key.key_id == key_id:
                try:
                    key.public_key.verify(signature, text.encode("utf-8"))
                except InvalidSignature:
                    raise Refused(f"note: signature by trusted key {name} fails") from None
                verified.add(name)
    if not verified:
        raise Refused("note: not signed by a trusted key")
    return text


# ---- c2sp.org/tlog-checkpoint ---------------------------------------------------


def parse_checkpoint(text):
    lines = text.split("\n")
    if lines[-1] != "" or len(lines) < 4:
        raise Refused("checkpoint: fewer than three lines")
    lines = lines[:-1]
    if any(line == "" for line in lines):
        raise Refused("checkpoint: empty line")
    origin = lines[0]
    size = decimal(lines[1], "checkpoint size")
    root = b64decode(lines[2], "checkpoint root")
    if len(root) != 32:
        raise Refused("checkpoint: root hash is not 32 bytes")
    return origin, size, root


def load_checkpoint(path, keys, origin):
    cp = parse_checkpoint(open_note(read_text(path), keys))
    if origin is not None and cp[0] != origin:
        raise Refused(f"checkpoint: origin {cp[0]!r} is not {origin!r}")
    return cp


# ---- RFC 6962 / RFC 9162 Merkle proofs ------------------------------------------


def hash_children(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(leaf_hash, index, size, path, root):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        raise Refused("inclusion: index not below tree size")
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            raise Refused("inclusion: proof too long")
        if fn & 1 or fn == sn:
            r = hash_children(p, r)
            while fn & 1 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = hash_children(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or r != root:
        raise Refused("inclusion: proof does not lead to the checkpoint root")


def verify_consistency(first, second, first_hash, second_hash, path):
    """RFC 9162 section 2.1.4.2, with the usual pre-checks for equal or zero sizes."""
    if first > second:
        raise Refused("consistency: old size exceeds new size")
    if first == 0:
        raise Refused("consistency: old size is zero")
    if first == second:
        if path or first_hash != second_hash:
            raise Refused("consistency: same size but different roots or a proof")
        return
    if not path:
        raise Refused("consistency: empty proof")
    if first & (first - 1) == 0:
        path = [first_hash] + path
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise Refused("consistency: proof too long")
        if fn & 1 or fn == sn:
            fr, sr = hash_children(c, fr), hash_children(c, sr)
            while fn & 1 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = hash_children(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or fr != first_hash or sr != second_hash:
        raise Refused("consistency: proof does not match the two roots")


def read_hash_lines(text, what):
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    hashes = [b64decode(line, what) for line in lines]
    if any(len(h) != 32 for h in hashes):
        raise Refused(f"{what}: hash is not 32 bytes")
    return hashes


# ---- c2sp.org/tlog-proof ---------------------------------------------------------


def parse_tlog_proof(text):
    head, sep, note = text.partition("\n\n")
    if not sep or not note:
        raise Refused("tlog-proof: no checkpoint after the proof")
    lines = head.split("\n")
    if lines[0] != PROOF_HEADER:
        raise Refused("tlog-proof: wrong header line")
    rest = lines[1:]
    if rest and rest[0].startswith("extra "):
        b64decode(rest[0][len("extra ") :], "tlog-proof extra")  # opaque, never trusted
        rest = rest[1:]
    if not rest or not rest[0].startswith("index "):
        raise Refused("tlog-proof: missing index line")
    index = decimal(rest[0][len("index ") :], "tlog-proof index")
    hashes = read_hash_lines("\n".join(rest[1:]), "tlog-proof hash") if rest[1:] else []
    return index, hashes, note


# ---- commands --------------------------------------------------------------------


def cmd_checkpoint(args, keys):
    origin, size, root = load_checkpoint(args.file, keys, args.origin)
    return f"checkpoint OK: origin={origin} size={size} root={root.hex()}"


def cmd_inclusion(args, keys):
    leaf = b64decode(args.leaf_b64, "--leaf-b64")
    index, path, note = parse_tlog_proof(read_text(args.proof_file))
    origin, size, root = parse_checkpoint(open_note(note, keys))
    if args.origin is not None and origin != args.origin:
        raise Refused(f"checkpoint: origin {origin!r} is not {args.origin!r}")
    verify_inclusion(hashlib.sha256(b"\x00" + leaf).digest(), index, size, path, root)
    return f"inclusion OK: index={index} in origin={origin} size={size} root={root.hex()}"


def cmd_consistency(args, keys):
    old = load_checkpoint(args.old, keys, args.origin)
    new = load_checkpoint(args.new, keys, args.origin)
    if old[0] != new[0]:
        raise Refused("consistency: the checkpoints name different origins")
    path = read_hash_lines(read_text(args.proof_file), "consistency proof")
    verify_consistency(old[1], new[1], old[2], new[2], path)
    return f"consistency OK: origin={old[0]} {old[1]} -> {new[1]}"


ENTRY_NAME = re.compile(r"^([0-9]{12,})\.(json|tlog-proof)$")


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def bundle_entries(entries_dir):
    """Maps each index to its entry and proof file names; refuses anything else."""
    pairs = {}
    for name in sorted(os.listdir(entries_dir)):
        m = ENTRY_NAME.match(name)
        if not m or (len(m.group(1)) > 12 and m.group(1).startswith("0")):
            raise Refused(f"bundle: unexpected file entries/{name}")
        pair = pairs.setdefault(int(m.group(1)), {})
        if m.group(2) in pair:
            raise Refused(f"bundle: two files for entries/{name}")
        pair[m.group(2)] = os.path.join(entries_dir, name)
    return pairs


def cmd_bundle(args, keys):
    audit_dir = os.path.join(args.dir, "data", "audit")
    checkpoint_path = os.path.join(audit_dir, "checkpoint.txt")
    origin, size, root = load_checkpoint(checkpoint_path, keys, args.origin)
    checkpoint_bytes = read_bytes(checkpoint_path)
    pairs = bundle_entries(os.path.join(audit_dir, "entries"))
    if not pairs:
        raise Refused("bundle: no audit entries")
    for n, pair in sorted(pairs.items()):
        if "json" not in pair:
            raise Refused(f"bundle: proof {n:012d}.tlog-proof has no entry")
        if "tlog-proof" not in pair:
            raise Refused(f"bundle: entry {n:012d}.json has no proof")
        index, path, note = parse_tlog_proof(read_text(pair["tlog-proof"]))
        if index != n:
            raise Refused(f"bundle: proof {n:012d}.tlog-proof is for index {index}")
        if note.encode("utf-8") != checkpoint_bytes:
            raise Refused(f"bundle: proof {n:012d}.tlog-proof is against another checkpoint")
        leaf = read_bytes(pair["json"])
        try:
            verify_inclusion(hashlib.sha256(b"\x00" + leaf).digest(), index, size, path, root)
        except Refused as e:
            raise Refused(f"bundle: entry {n:012d}: {e}") from None
    return f"bundle OK: {len(pairs)} entries in origin={origin} size={size}"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vkey", action="append", required=True,
                        help="trusted verifier key (repeatable; @FILE reads a file)")
    parser.add_argument("--origin", help="require this checkpoint origin")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("checkpoint", help="verify a signed checkpoint note")
    p.add_argument("file")
    p = sub.add_parser("inclusion", help="verify a c2sp.org/tlog-proof for a leaf")
    p.add_argument("--leaf-b64", required=True, help="the entry's leaf bytes, base64")
    p.add_argument("proof_file")
    p = sub.add_parser("consistency", help="verify a consistency proof between checkpoints")
    p.add_argument("--old", required=True, help="older signed checkpoint note")
    p.add_argument("--new", required=True, help="newer signed checkpoint note")
    p.add_argument("proof_file", help="base64 hashes, one per line")
    p = sub.add_parser("bundle", help="verify the audit proofs of an unpacked export bundle")
    p.add_argument("dir", help="the callvault-export-<id> directory")
    return parser.parse_args(argv)


def load_vkey(arg):
    if arg.startswith("@"):
        return read_text(arg[1:]).strip()
    return arg


def main(argv=None):
    args = parse_args(argv)
    commands = {"checkpoint": cmd_checkpoint, "inclusion": cmd_inclusion,
                "consistency": cmd_consistency, "bundle": cmd_bundle}
    try:
        keys = [VerifierKey(load_vkey(v)) for v in args.vkey]
        print(commands[args.command](args, keys))
    except Refused as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"FAILED: cannot read input: {e.strerror}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
