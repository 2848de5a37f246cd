//! JSON rendering: the stable, machine-readable form of every report.

use serde::Serialize;

/// Renders any report as pretty-printed JSON, ending in a newline.
pub fn render<T: Serialize>(report: &T) -> String {
    let mut s = serde_json::to_string_pretty(report)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot render report: {e}\"}}"));
    s.push('\n');
    s
}
