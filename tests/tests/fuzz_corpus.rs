//! The fuzzers' seed corpora (`fuzz/corpus/<target>/`) are real inputs: frames of every
//! message in both directions, the shipped and a small policy file, the rig presets, the
//! default configuration and a small checkpoint. This test checks every committed seed is
//! accepted by the decoder its target fuzzes (so the fuzzers start inside the valid set), and
//! `UPDATE_FUZZ_CORPUS=1 cargo test -p workspace-tests fuzz_corpus` rewrites them.

use std::path::{Path, PathBuf};

use hil_protocol::{
    Action, BoardMsg, FrameDecoder, Hello, HostMsg, InferenceStatus, MAX_FRAME, Observation,
    WatchdogEvent, encode_frame,
};

fn corpus(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target)
}

fn frame<T: serde::Serialize>(msg: &T) -> Vec<u8> {
    let mut out = [0u8; MAX_FRAME];
    let n = encode_frame(msg, &mut out).unwrap();
    out[..n].to_vec()
}

fn values<const N: usize>(v: &[f32]) -> heapless::Vec<f32, N> {
    heapless::Vec::from_slice(v).unwrap()
}

fn host_msgs() -> Vec<HostMsg> {
    vec![
        HostMsg::Query,
        HostMsg::Observation(Observation {
            seq: 7,
            values: values(&[0.99, -0.1, 2.5]),
        }),
        HostMsg::Observation(Observation {
            seq: u32::MAX,
            values: values(&[f32::MAX; 8]),
        }),
        HostMsg::Shutdown,
    ]
}

fn board_msgs() -> Vec<BoardMsg> {
    vec![
        BoardMsg::Hello(Hello {
            protocol_version: hil_protocol::PROTOCOL_VERSION,
            format_version: 1,
            obs_dim: 3,
            hidden: [64, 64],
            act_dim: 1,
            policy_hash: 0x4bf8_a391_5c2e_b170,
            control_period_us: 50_000,
            watchdog_us: 100_000,
            timer_overhead: 12,
            inference_stack: 600,
        }),
        BoardMsg::Action(Action {
            seq: 7,
            values: values(&[-1.5]),
            status: InferenceStatus::Ok,
            instructions: 11_500,
            obs_crc: 0xdead_beef,
            corrupt_frames: 2,
        }),
        BoardMsg::Watchdog(WatchdogEvent {
            last_seq: 7,
            elapsed_us: 99_800,
            values: values(&[0.0]),
            count: 1,
        }),
        BoardMsg::Bye {
            corrupt_frames: 3,
            watchdog_events: 1,
            peak_stack: 900,
        },
    ]
}

/// Strips the COBS framing and the CRC: the postcard body the `frame_*_msg` targets take.
fn body_of(frame: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; frame.len()];
    let n = hil_protocol::cobs::decode(&frame[..frame.len() - 1], &mut out).unwrap();
    out[..n - 4].to_vec()
}

fn small_policy() -> Vec<u8> {
    let dims = policy_runtime::Shape {
        obs: 3,
        hidden1: 8,
        hidden2: 8,
        act: 1,
    };
    hil::policy_file::random_policy(dims, 1).unwrap()
}

/// A small checkpoint body (tiny networks and buffer), without its 28-byte header.
fn small_checkpoint_body() -> Vec<u8> {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = trainer::TrainConfig {
        total_steps: 400,
        learning_starts: 50,
        buffer_capacity: 64,
        batch_size: 16,
        actor_hidden1: 4,
        actor_hidden2: 4,
        critic_hidden1: 4,
        critic_hidden2: 4,
        eval_every: 0,
        checkpoint_every: 0,
        rig: "reference".into(),
        ..trainer::TrainConfig::default()
    };
    let mut t = trainer::Trainer::new(cfg, &tmp.path().join("run")).unwrap();
    t.run(&trainer::RunOptions {
        quiet: true,
        stop_after: Some(200),
    })
    .unwrap();
    let bytes = std::fs::read(tmp.path().join("run/checkpoint.bin")).unwrap();
    bytes[trainer::checkpoint::HEADER_LEN..].to_vec()
}

/// Every seed, per target.
fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut s = Vec::new();
    let shipped = std::fs::read(hil::firmware::shipped_policy()).unwrap();
    let small = small_policy();
    for (name, file) in [("pendulum", &shipped), ("small-3-8-8-1", &small)] {
        s.push(("weights_raw", name.to_string(), file.clone()));
        s.push((
            "weights_crc",
            name.to_string(),
            file[..file.len() - 4].to_vec(),
        ));
    }
    let options = trainer::quantize::QuantizeOptions {
        rig: sim::Rig::preset("realistic").unwrap(),
        episodes: 5,
        seed: 7,
    };
    let dims16 = policy_runtime::Shape {
        obs: 3,
        hidden1: 16,
        hidden2: 16,
        act: 1,
    };
    let small16 = hil::policy_file::random_policy(dims16, 1).unwrap();
    for (name, file) in [("pendulum", &shipped), ("small-3-16-16-1", &small16)] {
        let (int8, _) = trainer::quantize::quantize(file, &options).unwrap();
        s.push((
            "weights_int8",
            name.to_string(),
            int8[..int8.len() - 4].to_vec(),
        ));
    }
    let mut act = Vec::new();
    for x in [0.5f32, -0.8, 3.0] {
        act.extend_from_slice(&x.to_le_bytes());
    }
    act.extend_from_slice(&small[..small.len() - 4]);
    s.push(("policy_act", "small-3-8-8-1".into(), act));
    let mut stream = Vec::new();
    for (i, m) in host_msgs().iter().enumerate() {
        let f = frame(m);
        stream.extend_from_slice(&f);
        s.push(("frame_host_msg", format!("host-{i}"), body_of(&f)));
    }
    for (i, m) in board_msgs().iter().enumerate() {
        let f = frame(m);
        stream.extend_from_slice(&f);
        s.push(("frame_board_msg", format!("board-{i}"), body_of(&f)));
    }
    s.push(("cobs", "frames".into(), stream.clone()));
    s.push(("frame_raw", "all-messages".into(), stream));
    s.push((
        "train_config",
        "default".into(),
        trainer::TrainConfig::default().to_toml().into_bytes(),
    ));
    for (name, _) in sim::rig::PRESETS {
        let rig = sim::Rig::preset(name).unwrap();
        s.push(("rig_file", name.to_string(), rig.to_toml().into_bytes()));
    }
    s.push(("checkpoint", "small".into(), small_checkpoint_body()));
    for (file, n) in [
        ("pendulum.postcard", 3u8),
        ("pendulum-int8.postcard", 3),
        ("strong-motor-prev-action.postcard", 4),
        ("strong-motor-prev-action-int8.postcard", 4),
    ] {
        let policies = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
        let bytes = std::fs::read(policies.join(file)).unwrap();
        // The whole storage, the policy's input count, an observation, the file's body.
        let mut seed = vec![0xFF, 0xFF, n];
        for x in [0.9f32, 0.3, -1.5, 0.5] {
            seed.extend_from_slice(&x.to_le_bytes());
        }
        seed.extend_from_slice(&bytes[..bytes.len() - 4]);
        s.push(("c_api", file.trim_end_matches(".postcard").into(), seed));
    }
    s
}

/// What the target's decoder says about a seed (`Ok` = accepted).
fn accepted(target: &str, seed: &[u8]) -> Result<(), String> {
    const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);
    let with_crc = |b: &[u8]| {
        let mut v = b.to_vec();
        v.extend_from_slice(&CRC32.checksum(b).to_le_bytes());
        v
    };
    let str_of = |b: &[u8]| String::from_utf8(b.to_vec()).map_err(|e| e.to_string());
    match target {
        "weights_raw" => policy_runtime::format::decode(seed)
            .map(drop)
            .map_err(|e| e.to_string()),
        "weights_crc" => policy_runtime::format::decode(&with_crc(seed))
            .map(drop)
            .map_err(|e| e.to_string()),
        "weights_int8" => policy_runtime::format::decode_int8(&with_crc(seed))
            .map(drop)
            .map_err(|e| e.to_string()),
        "c_api" => policy_runtime::DynPolicy::from_bytes(&with_crc(&seed[19..]))
            .map(drop)
            .map_err(|e| e.to_string()),
        "policy_act" => policy_runtime::Policy::<3, 8, 8, 1>::from_bytes(&with_crc(&seed[12..]))
            .map(drop)
            .map_err(|e| e.to_string()),
        "frame_raw" | "cobs" => {
            let mut d = FrameDecoder::new();
            let n = seed.iter().filter_map(|&b| d.push::<HostMsg>(b)).count();
            (n > 0).then_some(()).ok_or("no frame".into())
        }
        "frame_host_msg" => postcard::from_bytes::<HostMsg>(seed)
            .map(drop)
            .map_err(|e| e.to_string()),
        "frame_board_msg" => postcard::from_bytes::<BoardMsg>(seed)
            .map(drop)
            .map_err(|e| e.to_string()),
        "train_config" => trainer::TrainConfig::from_toml_str(&str_of(seed)?).map(drop),
        "rig_file" => sim::Rig::from_toml_str(&str_of(seed)?, "seed")
            .map(drop)
            .map_err(|e| e.to_string()),
        "checkpoint" => {
            const CRC64: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_XZ);
            let mut f = b"DDPGCKPT".to_vec();
            f.extend_from_slice(&trainer::checkpoint::VERSION.to_le_bytes());
            f.extend_from_slice(&(seed.len() as u64).to_le_bytes());
            f.extend_from_slice(&CRC64.checksum(seed).to_le_bytes());
            f.extend_from_slice(seed);
            let ck = trainer::checkpoint::Checkpoint::from_bytes(&f, std::path::Path::new("seed"))
                .map_err(|e| e.to_string())?;
            ck.check()
        }
        other => Err(format!("unknown target {other}")),
    }
}

#[test]
fn fuzz_seed_corpora_are_accepted_inputs() {
    if std::env::var_os("UPDATE_FUZZ_CORPUS").is_some() {
        for (target, name, bytes) in seeds() {
            let dir = corpus(target);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
    let targets = [
        "weights_raw",
        "weights_crc",
        "weights_int8",
        "policy_act",
        "frame_raw",
        "frame_host_msg",
        "frame_board_msg",
        "cobs",
        "train_config",
        "rig_file",
        "checkpoint",
        "c_api",
    ];
    for target in targets {
        let dir = corpus(target);
        let files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .flatten()
            .collect();
        assert!(!files.is_empty(), "{target}: no seed");
        for f in files {
            let bytes = std::fs::read(f.path()).unwrap();
            accepted(target, &bytes)
                .unwrap_or_else(|e| panic!("{}: not accepted: {e}", f.path().display()));
        }
    }
}
