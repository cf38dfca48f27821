#!/usr/bin/env python3
"""Writes large synthetic bench inputs: a WAV of a given length and a v1 transcript for it.

    bench_inputs.py OUT_DIR CALL_ID SECONDS [--rate 8000] [--channels 2] [--encoding pcm_s16le]

The WAV is written in 1 MiB blocks (a noise floor with a tone burst every few seconds), so
even a 1 GiB file costs no memory. The transcript has one segment every 10 s alternating
agent/customer, some of them reading out a card number and a CVV, so the redactors have
real work on every run.
"""
import argparse
import json
import math
import os
import struct

DIGITS_EN = "zero one two three four five six seven eight nine".split()


def luhn_complete(prefix):
    digits = [int(c) for c in prefix]
    for check in range(10):
        total = 0
        for i, d in enumerate(reversed(digits + [check])):
            if i % 2 == 1:
                d *= 2
                if d > 9:
                    d -= 9
            total += d
        if total % 10 == 0:
            return prefix + str(check)
    raise AssertionError


def write_wav(path, seconds, rate, channels, encoding):
    frames = int(seconds * rate)
    bps = 2 if encoding == "pcm_s16le" else 1
    data_len = frames * channels * bps
    tag = {"pcm_s16le": 1, "alaw": 6, "mulaw": 7}[encoding]
    with open(path, "wb") as f:
        if tag == 1:
            fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * channels * 2, channels * 2, 16)
            header = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt
        else:
            fmt = struct.pack("<HHIIHHH", tag, channels, rate, rate * channels, channels, 8, 0)
            header = b"WAVE" + b"fmt " + struct.pack("<I", 18) + fmt + b"fact" + struct.pack("<II", 4, frames)
        pad = data_len & 1
        riff_len = len(header) + 8 + data_len + pad
        f.write(b"RIFF" + struct.pack("<I", riff_len) + header + b"data" + struct.pack("<I", data_len))
        # A repeating 1 s block: a 440 Hz tone on channel 0 for half a second, noise floor otherwise.
        block = bytearray()
        for i in range(rate):
            for ch in range(channels):
                v = int(3000 * math.sin(2 * math.pi * 440 * i / rate)) if (ch == 0 and i < rate // 2) else ((i * 7 + ch) % 9) - 4
                if bps == 2:
                    block += struct.pack("<h", v)
                else:
                    block.append((v >> 8) & 0xFF ^ 0x55)
        block = bytes(block)
        written = 0
        while written < data_len:
            n = min(len(block), data_len - written)
            f.write(block[:n])
            written += n
        if pad:
            f.write(b"\0")
    return frames


def transcript(call_id, seconds, rate, channels, encoding, frames):
    card = luhn_complete("622202123456789")
    segments = []
    t = 0.5
    i = 0
    while t + 9.0 < seconds:
        speaker = "agent" if i % 2 == 0 else "customer"
        if speaker == "customer" and i % 4 == 1:
            words = [("My", 0), (" card", 0), (" number", 0), (" is", 0)] + [(" " + " ".join(card[k:k + 4]), 1) for k in range(0, 16, 4)]
            words += [(" and", 0), (" the", 0), (" CVV", 0), (" is", 0), (" 123.", 0)]
        elif speaker == "customer":
            words = [("我的", 0), ("卡号", 0), ("是", 0), (card, 1), ("，", 0), ("谢谢", 0)]
        else:
            words = [("Thank", 0), (" you", 0), (" for", 0), (" calling,", 0), (" the", 0), (" hotline", 0), (" is", 0), (" 95588.", 0)]
        seg_words = []
        wt = t
        for w, _ in words:
            seg_words.append({"w": w, "start": round(wt, 3), "end": round(wt + 0.3, 3)})
            wt += 0.35
        segments.append({"speaker": speaker, "start": round(t, 3), "end": round(wt, 3),
                         "text": "".join(w for w, _ in words), "words": seg_words})
        t += 10.0
        i += 1
    return {
        "schema": "callvault.transcript/v1", "call_id": call_id,
        "started_at": "2026-03-01T09:00:00+08:00", "agent_id": "A1000", "language": "mixed",
        "audio": {"file": f"{call_id}.wav", "encoding": encoding, "sample_rate": rate, "channels": channels,
                  "duration_s": round(frames / rate, 3),
                  "channel_map": {"agent": 0, "customer": 1 if channels == 2 else 0}},
        "segments": segments,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("call_id")
    ap.add_argument("seconds", type=float)
    ap.add_argument("--rate", type=int, default=8000)
    ap.add_argument("--channels", type=int, default=2)
    ap.add_argument("--encoding", default="pcm_s16le")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    frames = write_wav(os.path.join(a.out, f"{a.call_id}.wav"), a.seconds, a.rate, a.channels, a.encoding)
    with open(os.path.join(a.out, f"{a.call_id}.json"), "w", encoding="utf-8") as f:
        json.dump(transcript(a.call_id, a.seconds, a.rate, a.channels, a.encoding, frames), f, ensure_ascii=False)


if __name__ == "__main__":
    main()
