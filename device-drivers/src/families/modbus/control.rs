//! Settings profiles over Modbus: the holding registers the instrument's
//! configuration lists (`settings = ["1000", "1001"]`), read one by one and
//! written with function 0x06, values as unsigned 16-bit decimals. A
//! register the device refuses is an error naming it and its exception.

use super::driver::{BlockError, Data, Link, Op};
use crate::config::RegisterKind;
use crate::control::Setting;
use crate::error::{DriverError, Result};

fn address(key: &str) -> Result<u16> {
    key.trim().parse().map_err(|_| {
        DriverError::Config(format!("setting `{key}`: a Modbus setting is a holding register address 0..65535"))
    })
}

fn refused(reason: String) -> DriverError {
    DriverError::Instrument { command: "Modbus request".into(), message: reason }
}

pub(super) async fn read_settings(link: &mut Link<'_>, keys: &[String]) -> Result<Vec<Setting>> {
    if keys.is_empty() {
        return Err(DriverError::Config(
            "this instrument lists no `settings` (holding register addresses such as \"1000\") to read".into(),
        ));
    }
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        let addr = address(key)?;
        let what = format!("holding register {addr}");
        match link.exchange(Op::Read(RegisterKind::Holding, addr, 1), &what).await {
            Ok(Data::Words(w)) if w.len() == 1 => out.push(Setting::new(key.trim(), w[0].to_string())),
            Ok(_) => {
                return Err(DriverError::BadReply {
                    command: format!("read {what}"),
                    reply: String::new(),
                    reason: "expected one register".into(),
                });
            }
            Err(BlockError::Refused(reason)) => return Err(refused(reason)),
            Err(BlockError::Failed(e)) => return Err(e),
        }
    }
    Ok(out)
}

/// Checks every value first, so a bad one sends nothing.
pub(super) async fn write_settings(link: &mut Link<'_>, settings: &[Setting]) -> Result<()> {
    let mut writes = Vec::with_capacity(settings.len());
    for s in settings {
        let value: u16 = s.value.trim().parse().map_err(|_| {
            DriverError::Config(format!(
                "setting `{}`: value {:?} is not an unsigned 16-bit register value (0..65535)",
                s.key, s.value
            ))
        })?;
        writes.push((address(&s.key)?, value));
    }
    for (addr, value) in writes {
        let what = format!("write {value} to holding register {addr}");
        match link.exchange(Op::WriteRegister(addr, value), &what).await {
            Ok(_) => {}
            Err(BlockError::Refused(reason)) => return Err(refused(reason)),
            Err(BlockError::Failed(e)) => return Err(e),
        }
    }
    Ok(())
}
