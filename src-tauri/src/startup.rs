//! The window starts while the Desk opens (issue 17, first paint). A fresh
//! demo cache gets a week of history (13.3M samples); the Desk writes its
//! last hour before the agent starts and the rest behind it at the lowest
//! CPU priority (`meterdeck_core::demo`), and the Desk opens beside the web
//! view: `start_view`, the UI's first call, waits for it. Other
//! commands are called only after `start_view` answered, when the Desk and
//! the cloud link are managed.

use tokio::sync::watch;

/// Told once when the Desk is open, or why it could not be.
pub struct DeskOpening(watch::Sender<Option<Result<(), String>>>);

/// Managed state: what `start_view` waits on.
pub struct DeskReady(watch::Receiver<Option<Result<(), String>>>);

pub fn channel() -> (DeskOpening, DeskReady) {
    let (tx, rx) = watch::channel(None);
    (DeskOpening(tx), DeskReady(rx))
}

impl DeskOpening {
    pub fn done(self, result: Result<(), String>) {
        let _ = self.0.send(Some(result));
    }
}

impl DeskReady {
    /// Already open (the tests open the Desk before their app).
    #[cfg(test)]
    pub fn open() -> DeskReady {
        let (opening, ready) = channel();
        opening.done(Ok(()));
        ready
    }

    /// Waits until the Desk is open; its opening error otherwise.
    pub async fn wait(&self) -> Result<(), String> {
        let mut rx = self.0.clone();
        match rx.wait_for(Option::is_some).await {
            Ok(v) => v.clone().unwrap_or(Ok(())),
            Err(_) => Err("the app stopped while opening its data".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waiters_get_the_outcome_whenever_they_ask() {
        let (opening, ready) = channel();
        let early = tokio::spawn({
            let ready = DeskReady(ready.0.clone());
            async move { ready.wait().await }
        });
        tokio::task::yield_now().await;
        opening.done(Err("config refused".into()));
        assert_eq!(early.await.unwrap(), Err("config refused".into()));
        assert_eq!(ready.wait().await, Err("config refused".into()), "a late waiter too");
        assert_eq!(DeskReady::open().wait().await, Ok(()));
    }
}
