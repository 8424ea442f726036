"""ggml's reference dequantisation (llama.cpp's `gguf` package) for tally-local's GGUF reader test.

    python gguf_reference.py random OUT_DIR    write OUT_DIR/random.gguf: one 4x512 tensor per ggml
                                               type tally-local reads, random blocks with finite scales
    python gguf_reference.py decode GGUF OUT_DIR [NAME ...]
                                               each named tensor (all when none) decoded by
                                               gguf.quants.dequantize into OUT_DIR/NAME.f32
"""
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T

# Byte offsets of the f16 scale fields in one block, per type (ggml's block_* structs).
SCALES = {
    T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q8_0: [0],
    T.Q2_K: [80, 82], T.Q3_K: [108], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
}
ROWS, COLS = 4, 512


def random_file(out_dir):
    rng = np.random.default_rng(7)
    w = gguf.GGUFWriter(f"{out_dir}/random.gguf", "llama")
    w.add_tensor("f32", rng.standard_normal((ROWS, COLS), dtype=np.float32))
    w.add_tensor("f16", rng.standard_normal((ROWS, COLS)).astype(np.float16))
    bf16 = gguf.quants.quantize(rng.standard_normal((ROWS, COLS), dtype=np.float32), T.BF16)
    w.add_tensor("bf16", bf16, raw_shape=bf16.shape, raw_dtype=T.BF16)
    for qtype, offsets in SCALES.items():
        per, size = gguf.GGML_QUANT_SIZES[qtype]
        blocks = rng.integers(0, 256, size=(ROWS * COLS // per, size), dtype=np.uint8)
        for off in offsets:
            scale = (rng.random(len(blocks)) * 0.1 + 0.001).astype(np.float16)
            blocks[:, off:off + 2] = scale.view(np.uint8).reshape(-1, 2)
        raw = blocks.reshape(ROWS, COLS // per * size)
        w.add_tensor(qtype.name.lower(), raw, raw_shape=raw.shape, raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def decode(path, out_dir, names):
    reader = gguf.GGUFReader(path)
    for t in reader.tensors:
        if names and t.name not in names:
            continue
        values = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        values.tofile(f"{out_dir}/{t.name}.f32")
        print(t.name, t.tensor_type.name, values.size)


if __name__ == "__main__":
    if sys.argv[1] == "random":
        random_file(sys.argv[2])
    else:
        decode(sys.argv[2], sys.argv[3], set(sys.argv[4:]))
