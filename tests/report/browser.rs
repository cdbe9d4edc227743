//! Debian's Chromium, headless: the rendered DOM of a page and a screenshot of it, and the
//! screenshot's pixels counted by colour.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// The viewport: the page's 1120 px column fits across; the charts fit down.
pub const WIDTH: u32 = 1280;
pub const HEIGHT: u32 = 4000;
/// A healthy Chromium renders a small local page in about a second.
const PATIENCE: Duration = Duration::from_secs(120);

/// The browser binary `scripts/tools up` installed, from `PORTRAIT_CHROMIUM`.
pub fn chromium() -> PathBuf {
    let path = std::env::var_os("PORTRAIT_CHROMIUM").unwrap_or_else(|| {
        panic!(
            "PORTRAIT_CHROMIUM is not set: run scripts/tools up (it installs Debian's chromium) \
             and source .tools/env"
        )
    });
    PathBuf::from(path)
}

/// Runs headless Chromium on `page` with `action` (`--dump-dom`, `--screenshot=...`), in a
/// fresh profile under `scratch`, and returns its standard output once it exits.
async fn run(scratch: &Path, page: &Path, action: &str, profile: &str) -> String {
    let profile = tempdir(scratch, profile);
    let mut command = tokio::process::Command::new(chromium());
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            // One CSS pixel per screenshot pixel, colours as written: the pixel counts below
            // compare with the SVG's own geometry and fills.
            "--force-device-scale-factor=1",
            "--force-color-profile=srgb",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--window-size={WIDTH},{HEIGHT}"))
        .arg(action)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(PATIENCE, command.output())
        .await
        .unwrap_or_else(|_| panic!("chromium {action} did not exit within {PATIENCE:?}"))
        .expect("start chromium");
    assert!(
        output.status.success(),
        "chromium {action} failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("the DOM is UTF-8")
}

/// The DOM of `page` after Chromium loaded and laid it out.
pub async fn dump_dom(scratch: &Path, page: &Path) -> String {
    run(scratch, page, "--dump-dom", "dom-profile").await
}

/// A screenshot of `page`'s viewport, as the count of pixels of each `#rrggbb` colour.
pub async fn screenshot_colours(scratch: &Path, page: &Path) -> HashMap<String, u64> {
    let png = scratch.join("report.png");
    let action = format!("--screenshot={}", png.display());
    run(scratch, page, &action, "screenshot-profile").await;
    let decoder = png::Decoder::new(BufReader::new(File::open(&png).expect("the screenshot")));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a sane size")];
    let frame = reader.next_frame(&mut pixels).expect("the PNG's pixels");
    assert_eq!(
        (frame.width, frame.height),
        (WIDTH, HEIGHT),
        "the screenshot's size"
    );
    assert_eq!(frame.bit_depth, png::BitDepth::Eight);
    let channels = match frame.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("screenshot in {other:?}"),
    };
    let mut counts = HashMap::new();
    for pixel in pixels[..frame.buffer_size()].chunks_exact(channels) {
        let colour = format!("#{:02x}{:02x}{:02x}", pixel[0], pixel[1], pixel[2]);
        *counts.entry(colour).or_insert(0) += 1;
    }
    counts
}

/// A new empty directory under `parent`.
pub fn tempdir(parent: &Path, name: &str) -> PathBuf {
    let dir = parent.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
