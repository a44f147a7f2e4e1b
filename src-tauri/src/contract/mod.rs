//! The desktop contract: every command the window may invoke (its name, its
//! arguments, its result) and every event it listens to, in one table.
//!
//! `ui/src/bindings/` is generated from here (see `bindings.rs`; a test
//! fails when the committed files are stale). A command takes
//! `Args<XArgs>` and returns `Reply<XArgs>`, so its Rust signature is the
//! contract's; the `events` table types what `live.rs` emits. The argument
//! structs keep Tauri's IPC shape: one JSON object with camelCase keys.

mod args;
#[cfg(test)]
mod bindings;
mod events;

use serde::Serialize;
use serde::de::DeserializeOwned;
use ts_rs::TS;

pub use args::*;
pub use events::*;

/// One command of the contract, implemented by its argument struct.
pub trait Command: DeserializeOwned + TS + 'static {
    /// The name the window invokes (the function's name).
    const NAME: &'static str;
    /// What the command answers (`()` is `null`).
    type Reply: Serialize + TS + 'static;
}

/// A command's result; the window receives the error text as the rejection.
pub type Reply<C> = Result<<C as Command>::Reply, crate::error::CommandError>;

/// A command's arguments: the whole IPC payload read as the contract's
/// struct (Tauri's own extraction reads one key per parameter).
pub struct Args<C>(pub C);

impl<C> std::ops::Deref for Args<C> {
    type Target = C;
    fn deref(&self) -> &C {
        &self.0
    }
}

impl<'de, R: tauri::Runtime, C: Command> tauri::ipc::CommandArg<'de, R> for Args<C> {
    fn from_command(item: tauri::ipc::CommandItem<'de, R>) -> Result<Self, tauri::ipc::InvokeError> {
        // A command wired to another command's arguments would answer with the wrong shape.
        if item.name != C::NAME {
            return Err(format!(
                "command `{}` takes the arguments of `{}`: fix the contract table",
                item.name,
                C::NAME
            )
            .into());
        }
        parse::<C>(item.name, item.message.payload()).map(Args).map_err(Into::into)
    }
}

/// Reads `payload` as `C`; an error names the command and the key at fault.
fn parse<C: Command>(command: &str, payload: &tauri::ipc::InvokeBody) -> Result<C, String> {
    let value = match payload {
        tauri::ipc::InvokeBody::Json(v) => v,
        tauri::ipc::InvokeBody::Raw(_) => {
            return Err(format!("command `{command}` takes JSON arguments, not a bytes payload"));
        }
    };
    serde_path_to_error::deserialize(value).map_err(|e| {
        let at = e.path().to_string();
        if at == "." {
            format!("invalid args for command `{command}`: {}", e.inner())
        } else {
            format!("invalid args `{at}` for command `{command}`: {}", e.inner())
        }
    })
}

/// Visits the contract's types (the bindings generator and its tests).
#[cfg(test)]
pub trait Visit {
    fn command<C: Command>(&mut self);
    fn event<P: Serialize + TS + 'static>(&mut self, name: &'static str);
}
