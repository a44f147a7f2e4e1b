//! What the web portal's browser tests share (issue 15): filling and
//! clicking by test id, the sign-in form, the nav shown, documentation
//! screenshots, the mails of the aiosmtpd peer.

use std::path::Path;
use std::time::Duration;

use anyhow::{Result, anyhow};

use crate::Proc;
use crate::webdriver::{Session, testid};

pub fn fill(s: &Session, id: &str, text: &str) -> Result<()> {
    again_if_redrawn(|| {
        let e = s.by_testid(id)?;
        s.fill(&e, text)
    })
}

pub fn click(s: &Session, id: &str) -> Result<()> {
    again_if_redrawn(|| {
        let e = s.by_testid(id)?;
        s.click(&e)
    })
}

/// A screen that redraws between finding an element and using it (a list
/// refreshed when its data arrives) leaves a stale reference: find it again,
/// as a person clicks the button now shown. Other errors are returned.
fn again_if_redrawn<T>(mut act: impl FnMut() -> Result<T>) -> Result<T> {
    let mut tries = 0;
    loop {
        match act() {
            Err(e)
                if tries < 5
                    && e.downcast_ref::<crate::webdriver::WebDriverError>()
                        .is_some_and(|w| w.error == "stale element reference") =>
            {
                tries += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            other => return other,
        }
    }
}

/// Fills and sends the portal's sign-in form.
pub fn sign_in_form(s: &Session, account: &str, user: &str, password: &str) -> Result<()> {
    s.wait_for(&testid("portal-signin-form"), Duration::from_secs(15))?;
    fill(s, "portal-account", account)?;
    fill(s, "portal-user", user)?;
    fill(s, "portal-password", password)?;
    click(s, "portal-sign-in")
}

/// The shell is up: the nav entries shown, in order.
pub fn nav_entries(s: &Session) -> Result<Vec<String>> {
    s.wait_for(&testid("portal-who"), Duration::from_secs(15))?;
    let v = s.execute("return [...document.querySelectorAll('nav.rail button')].map(b => b.dataset.testid)", vec![])?;
    Ok(v.as_array().ok_or_else(|| anyhow!("nav: {v}"))?.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
}

/// `docs/screenshots/<name>.png`.
pub fn doc_screenshot(s: &Session, name: &str) -> Result<()> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots").join(format!("{name}.png"));
    s.save_screenshot(&path)?;
    eprintln!("screenshot {}", path.display());
    Ok(())
}

/// The next `MAIL` line of the SMTP peer within 20 s, as JSON text.
pub fn next_mail(smtp: &mut Proc) -> String {
    smtp.wait_line("MAIL ", Duration::from_secs(20))[5..].to_string()
}
