#!/usr/bin/env python3
"""Writes the small seed corpora in corpus/<target>/ from vectors.hpp (run after gen_vectors.py)."""
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
text = open(os.path.join(HERE, "vectors.hpp")).read()
arrays = {m.group(1): bytes(int(x, 16) for x in re.findall(r"0x([0-9a-f]{2})", m.group(2)))
          for m in re.finditer(r"inline constexpr std::uint8_t (\w+)\[\d+\] = \{(.*?)\};", text, re.S)}


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# fuzz_quic_initial: byte 0 even = raw datagram, odd = plaintext frames to protect (bit 1: v2).
write("fuzz_quic_initial", "rfc9001_a2", b"\x00" + arrays["kRfc9001ClientInitial"])
write("fuzz_quic_initial", "rfc9369_a2", b"\x00" + arrays["kRfc9369ClientInitial"])
for n in ("k_ngtcp2_v1_0", "k_ndpi_quic_29_0", "k_ndpi_frags_different_dcid_1", "k_ndpi_mvfst_exp_0"):
    write("fuzz_quic_initial", n[2:], b"\x00" + arrays[n])
write("fuzz_quic_initial", "plain_a2_v1", b"\x01" + arrays["kA2PlaintextPrefix"] + bytes(20))
write("fuzz_quic_initial", "plain_a2_v2", b"\x03" + arrays["kA2PlaintextPrefix"])
# PING, ACK+ECN, CRYPTO at offset 5, CONNECTION_CLOSE, PADDING
write("fuzz_quic_initial", "plain_mixed", bytes.fromhex("01" "03 05 00 01 00 00 01 01 02 03" "06 05 03 616263"
                                                        "1c 0a 06 00" "0000000000"))

# fuzz_quic_reassembler: records of offset u16, len u8 (bit 7: far offset), data.
ch = arrays["kA2PlaintextPrefix"][4:4 + 241]
recs = b""
for begin in range(240, -1, -40):
    piece = ch[begin:begin + 40]
    recs += begin.to_bytes(2, "big") + bytes([len(piece)]) + piece
write("fuzz_quic_reassembler", "reverse_client_hello", recs)
write("fuzz_quic_reassembler", "capacity_edge", (16380).to_bytes(2, "big") + bytes([10]) + b"0123456789"
      + (0).to_bytes(2, "big") + bytes([0x85]) + b"abcde")
