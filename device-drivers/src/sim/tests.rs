//! The simulator over real sockets and a real pty, spoken to with plain
//! lines (not the drivers), so these tests check the wire protocol itself.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use super::*;

const WAIT: Duration = Duration::from_secs(5);

struct Client {
    rd: BufReader<OwnedReadHalf>,
    wr: OwnedWriteHalf,
}

impl Client {
    async fn connect(sim: &RunningSim) -> Client {
        let SimAddress::Tcp(addr) = &sim.address else { panic!("not a TCP instrument") };
        let (rd, wr) = TcpStream::connect(addr).await.unwrap().into_split();
        Client { rd: BufReader::new(rd), wr }
    }

    async fn send(&mut self, line: &str) {
        self.wr.write_all(format!("{line}\n").as_bytes()).await.unwrap();
    }

    /// The next reply line (terminator included), or `None` on EOF.
    async fn read_raw(&mut self) -> Option<String> {
        let mut s = String::new();
        let n = tokio::time::timeout(WAIT, self.rd.read_line(&mut s)).await.expect("no reply in time").ok()?;
        (n > 0).then_some(s)
    }

    async fn query(&mut self, line: &str) -> String {
        self.send(line).await;
        let r = self.read_raw().await.unwrap_or_else(|| panic!("connection closed after {line}"));
        r.trim_end_matches(['\r', '\n']).to_string()
    }
}

async fn start_one(inst: SimInstrument) -> SimHandle {
    start(SimConfig { instruments: vec![inst] }).await.unwrap()
}

fn with_seed(name: &str, p: Personality, seed: u64) -> SimInstrument {
    let mut i = SimInstrument::new(name, p);
    i.seed = seed;
    i
}

fn numbers(reply: &str) -> Vec<f64> {
    reply.split(';').map(|p| p.parse().unwrap_or_else(|_| panic!("not a number: {p:?} in {reply:?}"))).collect()
}

/// The value served between `before` and `after` must be one of the two
/// waveform values (a step boundary may fall in between).
fn served_at(seed: u64, p: Personality, ch: usize, before: i64, after: i64, v: f64) -> bool {
    [before, after].iter().any(|t| expected_value(seed, p, ch, *t) == v)
}

#[tokio::test]
async fn logger_over_tcp() {
    let h = start_one(with_seed("log", Personality::HiokiLogger, 3)).await;
    let sim = &h.instruments[0];
    assert_eq!(sim.channel_ids().len(), 30);
    let mut c = Client::connect(sim).await;
    assert_eq!(c.query("*IDN?").await, "HIOKI,LR8450,SIM301,V2.10");

    let before = state::now_ms();
    let r = c.query(":MEM:GETR;:MEM:VREAL? CH1_1;:MEMory:VREAL? CH1_2;:memory:vreal? CH2_15").await;
    let after = state::now_ms();
    let v = numbers(&r);
    assert_eq!(v.len(), 3, "{r}");
    for (ch, value) in [(0, v[0]), (1, v[1]), (29, v[2])] {
        assert!(served_at(3, Personality::HiokiLogger, ch, before, after, value), "ch {ch}: {r}");
    }

    let r = c.query(":HEADer ON;:MEM:GETR;:MEM:VREAL? CH1_1").await;
    assert!(r.starts_with(":MEMORY:VREAL CH1_1,"), "{r}");
    c.send(":HEAD OFF").await;

    c.send(":FOO:BAR 1").await;
    assert_eq!(c.query(":SYSTem:ERRor?").await, "-113,\"Undefined header\"");
    assert_eq!(c.query(":SYST:ERR?").await, "0,\"No error\"");

    c.send(":SIMulate:VALue CH1_2,-12.5;:SIM:SENT CH1_3,BURNOUT").await;
    assert_eq!(c.query(":MEM:GETR;:MEM:VREAL? CH1_2;:MEM:VREAL? CH1_3").await, "-1.25E+01;+888.88E+9");
    // A second connection sees the same instrument.
    let mut c2 = Client::connect(sim).await;
    assert_eq!(c2.query(":MEM:GETR;:MEM:VREAL? CH1_2").await, "-1.25E+01");
    // `*OPC?` makes sure the first connection's command ran before polling on the second.
    assert_eq!(c.query(":SIM:VAL CH1_2,AUTO;*OPC?").await, "1");
    let before = state::now_ms();
    let v = numbers(&c2.query(":MEM:GETR;:MEM:VREAL? CH1_2").await);
    assert!(served_at(3, Personality::HiokiLogger, 1, before, state::now_ms(), v[0]));
    h.shutdown().await;
}

#[tokio::test]
async fn power_meter_over_tcp() {
    let h = start_one(with_seed("pw", Personality::PowerMeter, 8)).await;
    let mut c = Client::connect(&h.instruments[0]).await;
    assert_eq!(c.query("*IDN?").await, "HIOKI,PW3390,SIM801,V1.30");
    let before = state::now_ms();
    let r = c.query(":MEASure? U1,I1,P1").await;
    let after = state::now_ms();
    let v = numbers(&r);
    assert_eq!(v.len(), 3, "{r}");
    for (i, ch) in [0usize, 4, 8].into_iter().enumerate() {
        assert!(served_at(8, Personality::PowerMeter, ch, before, after, v[i]), "{r}");
    }
    let r = c.query(":HEAD ON;:MEAS? U1,I1,P1").await;
    let parts: Vec<&str> = r.split(';').collect();
    assert!(parts[0].starts_with("U1 +") && parts[1].starts_with("I1 +") && parts[2].starts_with("P1 +"), "{r}");
    c.send(":HEAD OFF;:MEAS? U1,BOGUS").await;
    assert_eq!(c.query(":SYST:ERR?").await, "-224,\"Illegal parameter value\"");
    c.send(":SIM:VAL P1,1234.5").await;
    assert_eq!(c.query(":MEAS? P1").await, "+1.2345E+03");
    h.shutdown().await;
}

#[tokio::test]
async fn dmm_over_tcp_echoes_crlf() {
    let h = start_one(with_seed("dmm", Personality::Scpi, 1)).await;
    let mut c = Client::connect(&h.instruments[0]).await;
    c.wr.write_all(b"*IDN?\r\n").await.unwrap();
    assert_eq!(c.read_raw().await.unwrap(), "MeterdeckSim,SCPI-1,SIM101,1.0\r\n");
    let before = state::now_ms();
    let v = numbers(&c.query("MEASure:VOLTage:DC?;:MEAS:TEMP?").await);
    let after = state::now_ms();
    assert!(served_at(1, Personality::Scpi, 0, before, after, v[0]));
    assert!(served_at(1, Personality::Scpi, 4, before, after, v[1]));
    assert!(c.query(":HEAD ON;MEAS:RES?").await.starts_with(":MEASURE:RESISTANCE +"));
    c.send(":HEAD OFF;:MEAS:VOLT:DC").await;
    assert_eq!(c.query(":SYST:ERR?").await, "-113,\"Undefined header\"");
    c.send(":SIM:VAL VDC,1.5").await;
    assert_eq!(c.query("MEAS:VOLT:DC?").await, "+1.5E+00");
    h.shutdown().await;
}

#[tokio::test]
async fn garbage_fault_and_control() {
    let mut inst = with_seed("g", Personality::HiokiLogger, 2);
    inst.faults.garbage_every = Some(2);
    let h = start_one(inst).await;
    let mut c = Client::connect(&h.instruments[0]).await;
    let poll = ":MEM:GETR;:MEM:VREAL? CH1_1;:MEM:VREAL? CH1_2";
    let good = c.query(poll).await;
    assert_eq!(numbers(&good).len(), 2);
    let bad = c.query(poll).await;
    assert_eq!(bad.matches(';').count(), 1, "{bad}");
    assert!(!bad.chars().any(|ch| ch.is_ascii_digit()), "{bad}");
    // Non-data replies are never garbage.
    assert_eq!(c.query("*IDN?").await, "HIOKI,LR8450,SIM201,V2.10");
    c.send(":SIM:GARB OFF").await;
    for _ in 0..4 {
        numbers(&c.query(poll).await);
    }
    c.send(":SIM:GARB ON").await;
    assert!(c.query(poll).await.parse::<f64>().is_err());
    h.shutdown().await;
}

#[tokio::test]
async fn drop_fault_closes_and_accepts_again() {
    let mut inst = SimInstrument::new("d", Personality::PowerMeter);
    inst.faults.drop_every = Some(Duration::from_millis(200));
    let h = start_one(inst).await;
    let sim = &h.instruments[0];
    let mut c = Client::connect(sim).await;
    // Without sending anything the connection is closed by the fault.
    assert_eq!(c.read_raw().await, None);
    let mut c = Client::connect(sim).await;
    assert!(c.query("*IDN?").await.starts_with("HIOKI,PW3390"));
    h.shutdown().await;
}

#[tokio::test]
async fn simulate_drop_closes_every_connection() {
    let h = start_one(SimInstrument::new("d", Personality::Scpi)).await;
    let sim = &h.instruments[0];
    let mut a = Client::connect(sim).await;
    let mut b = Client::connect(sim).await;
    assert!(b.query("*IDN?").await.starts_with("MeterdeckSim"));
    a.send(":SIMulate:DROP").await;
    assert_eq!(a.read_raw().await, None);
    assert_eq!(b.read_raw().await, None);
    let mut c = Client::connect(sim).await;
    assert!(c.query("*IDN?").await.starts_with("MeterdeckSim"));
    h.shutdown().await;
}

#[tokio::test]
async fn slow_fault_still_replies() {
    let mut inst = SimInstrument::new("s", Personality::Scpi);
    inst.faults.slow = Some(Duration::from_millis(20));
    let h = start_one(inst).await;
    let mut c = Client::connect(&h.instruments[0]).await;
    assert!(c.query("*IDN?").await.starts_with("MeterdeckSim"));
    c.send(":SIM:SLOW 0").await;
    assert!(c.query("*IDN?").await.starts_with("MeterdeckSim"));
    h.shutdown().await;
}

#[tokio::test]
async fn sentinel_every_cycles_kinds() {
    let mut inst = SimInstrument::new("s", Personality::HiokiLogger);
    inst.channels = Some(1);
    inst.faults.sentinel_every = Some(2);
    let h = start_one(inst).await;
    let mut c = Client::connect(&h.instruments[0]).await;
    let mut replies = Vec::new();
    for _ in 0..10 {
        replies.push(c.query(":MEM:GETR;:MEM:VREAL? CH1_1").await);
    }
    let sentinels: Vec<&str> = replies.iter().skip(1).step_by(2).map(String::as_str).collect();
    assert_eq!(sentinels, ["+9999.9E+99", "+999.99E+9", "-999.99E+9", "+888.88E+9", "+777.77E+9"]);
    assert!(replies.iter().step_by(2).all(|r| r.parse::<f64>().is_ok_and(|v| v < 1e6)));
    h.shutdown().await;
}

#[tokio::test]
async fn serial_pty_serves_scpi() {
    use tokio::io::AsyncReadExt;
    use tokio_serial::SerialPortBuilderExt;
    let mut inst = with_seed("tty", Personality::Scpi, 5);
    inst.serial = true;
    let h = start_one(inst).await;
    let sim = &h.instruments[0];
    let SimAddress::Serial(path) = &sim.address else { panic!("not serial: {:?}", sim.address) };
    assert!(path.starts_with("/dev/"), "{path:?}");
    let cfg = sim.instrument_config();
    assert!(matches!(cfg.transport, TransportConfig::Serial { baud: SIM_SERIAL_BAUD, .. }));
    cfg.validate().unwrap();

    let mut port = tokio_serial::new(path.display().to_string(), SIM_SERIAL_BAUD).open_native_async().unwrap();
    port.write_all(b"*IDN?\n").await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 128];
    while !got.ends_with(b"\n") {
        let n = tokio::time::timeout(WAIT, port.read(&mut buf)).await.expect("no reply").unwrap();
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(String::from_utf8_lossy(&got), "MeterdeckSim,SCPI-1,SIM501,1.0\n");
    drop(port);
    h.shutdown().await;
}

#[tokio::test]
async fn instrument_configs_are_valid_and_complete() {
    let cfg = SimConfig {
        instruments: vec![
            SimInstrument::new("a", Personality::HiokiLogger),
            SimInstrument::new("b", Personality::PowerMeter),
            SimInstrument::new("c", Personality::Scpi),
            SimInstrument::new("d", Personality::Modbus),
        ],
    };
    let h = start(cfg).await.unwrap();
    for sim in &h.instruments {
        let c = sim.instrument_config();
        c.validate().unwrap_or_else(|e| panic!("{}: {e}", sim.name));
        assert_eq!(c.family, sim.personality.family());
        assert_eq!(c.channels.len(), sim.personality.default_channels());
        assert!(
            matches!(&c.transport, TransportConfig::Tcp { host, port: Some(p), .. } if host == "127.0.0.1" && *p != 0)
        );
    }
    let modbus = h.get("d").unwrap().instrument_config();
    assert_eq!(modbus.channels[3].modbus.as_ref().map(|m| m.address), Some(6));
    assert_eq!(h.get("c").unwrap().instrument_config().channels[0].query.as_deref(), Some("MEAS:VOLT:DC?"));
    h.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_connections_and_port_clash_is_named() {
    let h = start_one(SimInstrument::new("a", Personality::Scpi)).await;
    let SimAddress::Tcp(addr) = h.instruments[0].address.clone() else { panic!() };
    let mut c = Client::connect(&h.instruments[0]).await;
    assert!(c.query("*IDN?").await.starts_with("MeterdeckSim"));

    let mut clash = SimInstrument::new("b", Personality::Scpi);
    clash.listen = Some(addr.to_string());
    let err = start_one_err(clash).await;
    assert!(err.contains("instrument `b`") && err.contains(&addr.to_string()), "{err}");

    h.shutdown().await;
    assert_eq!(c.read_raw().await, None);
}

async fn start_one_err(inst: SimInstrument) -> String {
    match start(SimConfig { instruments: vec![inst] }).await {
        Ok(_) => panic!("expected an error"),
        Err(e) => format!("{e:#}"),
    }
}
