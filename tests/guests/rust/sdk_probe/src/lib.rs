// A probe of the Rust SDK (sdk/rust) for the tests: every hook, and each way
// a hook can end, chosen by the input.
use wasmplug::{fail, log, Level};

/// Transform by command:
/// "" empty output; "drop" drops; "panic" panics; "err" returns Err; "fail"
/// calls fail; "index" indexes out of bounds; "log" logs and echoes;
/// "grow:N" returns N bytes of 'x'; "hog:N" allocates N bytes in 4 KiB
/// chunks (past the memory limit: out of memory) and returns nothing;
/// "keep:TEXT" stores TEXT in the instance; "kept" returns what was stored;
/// anything else is echoed.
fn probe(input: &[u8]) -> Result<Option<Vec<u8>>, String> {
    thread_local! {
        static KEPT: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    Ok(match input {
        b"" => Some(Vec::new()),
        b"drop" => None,
        b"panic" => panic!("probe panicked"),
        b"err" => return Err("probe error".to_string()),
        b"fail" => fail("probe failed"),
        b"index" => {
            let at = input.len() * 1000;
            Some(vec![input[at]])
        }
        b"log" => {
            log(Level::Warn, "probe log");
            Some(input.to_vec())
        }
        _ if input.starts_with(b"grow:") => {
            let n: usize = std::str::from_utf8(&input[5..]).ok().and_then(|s| s.parse().ok()).unwrap_or(0);
            Some(vec![b'x'; n])
        }
        _ if input.starts_with(b"hog:") => {
            let n: usize = std::str::from_utf8(&input[4..]).ok().and_then(|s| s.parse().ok()).unwrap_or(0);
            let chunks: Vec<Vec<u8>> = (0..n / 4096).map(|_| vec![1u8; 4096]).collect();
            std::hint::black_box(&chunks);
            Some(Vec::new())
        }
        _ if input.starts_with(b"keep:") => {
            KEPT.with(|k| *k.borrow_mut() = input[5..].to_vec());
            Some(Vec::new())
        }
        b"kept" => Some(KEPT.with(|k| k.borrow().clone())),
        _ => Some(input.to_vec()),
    })
}
wasmplug::export_transform!(probe);

/// Keeps inputs that start with 'k'; "err" fails the call.
fn keep(input: &[u8]) -> Result<bool, &'static str> {
    if input == b"err" {
        return Err("probe filter error");
    }
    Ok(input.first() == Some(&b'k'))
}
wasmplug::export_filter!(keep);

/// Logs each input at info level.
fn observe(input: &[u8]) {
    log(Level::Info, input);
}
wasmplug::export_observe!(observe);

/// Rejects the config "reject".
fn init(config: &[u8]) -> Result<(), &'static str> {
    if config == b"reject" {
        Err("probe: config rejected")
    } else {
        Ok(())
    }
}
wasmplug::export_init!(init);
