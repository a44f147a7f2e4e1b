//! `meterdeck-agent discover lan | serial | ble`: find instruments by sweeping
//! hosts x ports or the serial ports, asking whatever answers `*IDN?`, or by
//! a Bluetooth LE scan (advertised services say the family).

use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};

use super::runtime;
use crate::table::render_table;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    target: DiscoverTarget,
}

#[derive(clap::Subcommand)]
enum DiscoverTarget {
    /// Sweep hosts x ports and ask `*IDN?` of whatever accepts a connection.
    Lan {
        /// e.g. `192.168.1.1-254`, `10.0.0.0/24`, `192.168.1.5,192.168.1.9`
        #[arg(long)]
        hosts: String,
        /// Default: every instrument family's discovery ports.
        #[arg(long)]
        ports: Option<String>,
        #[arg(long, default_value = "300ms", value_parser = humantime::parse_duration)]
        timeout: Duration,
        /// Connections in flight at once.
        #[arg(long, default_value_t = 256)]
        concurrency: usize,
        #[arg(long)]
        json: bool,
    },
    /// List serial ports (USB VID/PID, maker, product, serial) and ask each `*IDN?`.
    Serial {
        #[arg(long, default_value_t = 9600)]
        baud: u32,
        #[arg(long, default_value = "500ms", value_parser = humantime::parse_duration)]
        timeout: Duration,
        /// Line terminator to send (`\n` or `\r\n`).
        #[arg(long, default_value = "\\n")]
        terminator: String,
        #[arg(long)]
        json: bool,
    },
    /// Scan for Bluetooth LE devices: name, address, RSSI, advertised services
    /// and the family that fits, with the `transport` to add it with.
    Ble {
        /// How long to listen for advertisements.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: Args) -> Result<()> {
    runtime()?.block_on(discover(args.target))
}

async fn discover(target: DiscoverTarget) -> Result<()> {
    use meterdeck_drivers::discovery::{parse_host_range, probe_serial, sweep_lan};
    match target {
        DiscoverTarget::Ble { seconds, json } => discover_ble(Duration::from_secs(seconds), json).await?,
        DiscoverTarget::Lan { hosts, ports, timeout, concurrency, json } => {
            let hosts = parse_host_range(&hosts).map_err(|e| anyhow!("--hosts: {e}"))?;
            let ports = match ports {
                Some(p) => parse_ports(&p)?,
                None => meterdeck_drivers::discovery::default_ports(),
            };
            eprintln!(
                "probing {} hosts x {} ports (timeout {})",
                hosts.len(),
                ports.len(),
                humantime::format_duration(timeout)
            );
            let found = sweep_lan(hosts, ports, timeout, concurrency).await;
            if json {
                println!("{}", serde_json::to_string_pretty(&found)?);
                return Ok(());
            }
            let rows: Vec<Vec<String>> = found
                .iter()
                .map(|f| {
                    vec![
                        f.address.clone(),
                        f.port.map_or("-".into(), |p| p.to_string()),
                        f.family_guess.map_or("?".into(), |x| x.name().to_string()),
                        answer(f),
                    ]
                })
                .collect();
            if rows.is_empty() {
                println!("nothing answered");
            } else {
                print!("{}", render_table(&["ADDRESS", "PORT", "FAMILY", "ANSWER"], rows));
            }
        }
        DiscoverTarget::Serial { baud, timeout, terminator, json } => {
            let terminator = terminator.replace("\\r", "\r").replace("\\n", "\n");
            let ports = meterdeck_drivers::transport::list_serial_ports().context("cannot list serial ports")?;
            let found = probe_serial(ports.iter().map(|p| p.path.clone()).collect(), baud, &terminator, timeout).await;
            if json {
                let joined: Vec<serde_json::Value> = ports
                    .iter()
                    .map(|p| {
                        let f = found.iter().find(|f| f.address == p.path);
                        serde_json::json!({ "port": p, "probe": f })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&joined)?);
                return Ok(());
            }
            if ports.is_empty() {
                println!("no serial ports");
                return Ok(());
            }
            let rows = ports
                .iter()
                .map(|p| {
                    let vidpid = match (&p.vid, &p.pid) {
                        (Some(v), Some(d)) => format!("{v}:{d}"),
                        _ => "-".into(),
                    };
                    let f = found.iter().find(|f| f.address == p.path);
                    vec![
                        p.path.clone(),
                        format!("{:?}", p.kind).to_lowercase(),
                        vidpid,
                        p.manufacturer.clone().unwrap_or_default(),
                        p.product.clone().unwrap_or_default(),
                        p.serial_number.clone().unwrap_or_default(),
                        f.map_or("-".into(), answer),
                    ]
                })
                .collect();
            print!(
                "{}",
                render_table(&["PORT", "KIND", "VID:PID", "MAKER", "PRODUCT", "SERIAL", "*IDN? ANSWER"], rows)
            );
        }
    }
    Ok(())
}

fn answer(f: &meterdeck_drivers::discovery::Found) -> String {
    match (&f.identity, &f.error) {
        (Some(i), _) => i.to_string(),
        (None, Some(e)) => e.clone(),
        (None, None) => "open (no *IDN?)".into(),
    }
}

fn parse_ports(text: &str) -> Result<Vec<u16>> {
    let ports: Vec<u16> = text
        .split([',', ' '])
        .filter(|p| !p.is_empty())
        .map(|p| p.trim().parse::<u16>().map_err(|_| anyhow!("--ports: `{p}` is not a TCP port")))
        .collect::<Result<_>>()?;
    if ports.is_empty() {
        bail!("--ports: no ports given");
    }
    Ok(ports)
}

/// `discover ble`: one row per device heard, the strongest first.
async fn discover_ble(duration: Duration, json: bool) -> Result<()> {
    use meterdeck_drivers::transport::ble_scan::scan;
    eprintln!("scanning for Bluetooth LE devices for {}", humantime::format_duration(duration));
    let found = scan(duration).await.context("BLE scan")?;
    if json {
        println!("{}", serde_json::to_string_pretty(&found)?);
        return Ok(());
    }
    if found.is_empty() {
        println!("no Bluetooth LE device heard");
        return Ok(());
    }
    let rows = found
        .iter()
        .map(|f| {
            let transport = match &f.transport {
                Some(t) => serde_json::to_value(t).ok().and_then(|v| v["kind"].as_str().map(str::to_string)),
                None => None,
            };
            vec![
                f.name.clone().unwrap_or_else(|| "-".into()),
                f.address.clone(),
                f.rssi.map_or("-".into(), |r| format!("{r} dBm")),
                f.family.clone().unwrap_or_else(|| "?".into()),
                transport.unwrap_or_else(|| "-".into()),
                f.services.join(" "),
            ]
        })
        .collect();
    print!("{}", render_table(&["NAME", "ADDRESS", "RSSI", "FAMILY", "TRANSPORT", "SERVICES"], rows));
    Ok(())
}
