//! The trainer's TOML configuration: never panics; an accepted configuration validates or is
//! refused by name, and its TOML text parses back to the same configuration.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trainer::config::TrainConfig;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = TrainConfig::from_toml_str(text) else {
        return;
    };
    if config.validate().is_ok() {
        let back = TrainConfig::from_toml_str(&config.to_toml()).expect("own TOML parses");
        assert_eq!(back.to_toml(), config.to_toml());
    }
});
