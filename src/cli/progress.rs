//! Progress bars on standard error (drawn only on a terminal), in one style for every command.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `len` steps drawn with `template` (indicatif's template syntax).
pub fn bar(len: u64, template: &str) -> ProgressBar {
    ProgressBar::new(len).with_style(ProgressStyle::with_template(template).expect("a valid progress template"))
}

/// A bar counting `len` `things` for `command`: `generate ████░░ 1200/3000 enterprises 950/s eta 2s`.
pub fn counting(command: &str, len: u64, things: &str) -> ProgressBar {
    bar(len, &format!("{command} {{bar:40}} {{pos}}/{{len}} {things} {{per_sec}} eta {{eta}}"))
}

/// A spinner showing `message` while something of unknown length runs.
pub fn spinner(message: &'static str) -> ProgressBar {
    let spinner = ProgressBar::new_spinner().with_message(message);
    spinner.enable_steady_tick(Duration::from_millis(200));
    spinner
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counting_templates_parse() {
        for (command, things) in [("generate", "enterprises"), ("reindex", "enterprises"), ("export", "records")] {
            let bar = counting(command, 10, things);
            assert_eq!(bar.length(), Some(10));
            bar.finish_and_clear();
        }
    }
}
