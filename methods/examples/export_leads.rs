//! A bulk export of CRM leads to CSV with a progress bar (rows, rows/s, ETA), resumable: after
//! an interruption (Ctrl-C, a crash, `--limit`), running it again carries on where it stopped.
//!
//! ```sh
//! cargo run --example export_leads -- --out leads.csv              # on the embedded emulator
//! cargo run --example export_leads -- --out leads.csv --limit 500  # stop after 500 rows...
//! cargo run --example export_leads -- --out leads.csv              # ...and finish the export
//! B24_WEBHOOK_URL=https://<portal>/rest/<user>/<code>/ \
//!     cargo run --example export_leads -- --out leads.csv          # a real portal (scope crm)
//! ```
//!
//! Options (or environment): `--out FILE` (`B24_EXPORT_OUT`, default `leads.csv`), `--limit N`
//! (`B24_EXPORT_LIMIT`: stop after N rows), `--leads N` (`B24_EXPORT_LEADS`: leads on the
//! emulated portal, default 5,000). The checkpoint `<FILE>.checkpoint` holds the last exported
//! id and the CSV's length at that point: a resumed run cuts the CSV back to that length (rows
//! written after the checkpoint) and asks for ids above it, so each lead is written once.
//! The checkpoint is removed when the export completes.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

use b24::crm::{Lead, LeadList};
use b24::exports::futures::TryStreamExt;
use b24::exports::serde_json::{self, json, Value};
use b24::Client;
use b24_emulator::{Emulator, Portal, DEMO_IDS};
use indicatif::{ProgressBar, ProgressStyle};

/// Rows between checkpoints (one page of `crm.lead.list`).
const CHECKPOINT_EVERY: u64 = 50;

struct Options {
    out: PathBuf,
    limit: Option<u64>,
    leads: u64,
}

fn options() -> anyhow::Result<Options> {
    let mut out = std::env::var_os("B24_EXPORT_OUT").map(PathBuf::from);
    let mut limit = std::env::var("B24_EXPORT_LIMIT").ok();
    let mut leads = std::env::var("B24_EXPORT_LEADS").ok();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| anyhow::anyhow!("{arg} needs a value"))
        };
        match arg.as_str() {
            "--out" => out = Some(value()?.into()),
            "--limit" => limit = Some(value()?),
            "--leads" => leads = Some(value()?),
            other => anyhow::bail!("unknown argument {other:?} (--out FILE, --limit N, --leads N)"),
        }
    }
    Ok(Options {
        out: out.unwrap_or_else(|| "leads.csv".into()),
        limit: limit.map(|n| n.parse()).transpose()?,
        leads: leads.map(|n| n.parse()).transpose()?.unwrap_or(5_000),
    })
}

/// Where a previous run stopped.
#[derive(Debug, Clone, Copy, Default)]
struct Checkpoint {
    last_id: u64,
    csv_bytes: u64,
}

impl Checkpoint {
    fn path(out: &Path) -> PathBuf {
        let mut name = out.as_os_str().to_owned();
        name.push(".checkpoint");
        name.into()
    }

    fn load(out: &Path) -> anyhow::Result<Option<Self>> {
        let text = match std::fs::read_to_string(Self::path(out)) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let saved: Value = serde_json::from_str(&text)?;
        match (saved["last_id"].as_u64(), saved["csv_bytes"].as_u64()) {
            (Some(last_id), Some(csv_bytes)) => Ok(Some(Checkpoint { last_id, csv_bytes })),
            _ => anyhow::bail!("{} is not a checkpoint", Self::path(out).display()),
        }
    }

    /// Written to a new file renamed over the old one: a crash leaves one or the other.
    fn save(&self, out: &Path) -> std::io::Result<()> {
        let path = Self::path(out);
        let tmp = path.with_extension("tmp");
        let text = json!({"last_id": self.last_id, "csv_bytes": self.csv_bytes}).to_string();
        std::fs::write(&tmp, text)?;
        std::fs::rename(tmp, path)
    }
}

/// A CSV field: quoted when it holds a comma, a quote or a line break.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn row(lead: &Lead) -> String {
    let opt = |v: Option<String>| v.unwrap_or_default();
    format!(
        "{},{},{},{},{}\n",
        lead.id,
        field(lead.title.as_deref().unwrap_or("")),
        opt(lead.date_create.map(|d| d.to_rfc3339())),
        opt(lead.opportunity.map(|o| format!("{o:.2}"))),
        opt(lead.assigned_by_id.map(|u| u.to_string())),
    )
}

/// The CSV, opened to continue after `checkpoint` (cut back to its length), or new.
fn open_csv(out: &Path, checkpoint: Option<Checkpoint>) -> anyhow::Result<(BufWriter<File>, u64)> {
    let Some(checkpoint) = checkpoint else {
        let mut file = File::create(out)?;
        let header = "id,title,date_create,opportunity,assigned_by_id\n";
        file.write_all(header.as_bytes())?;
        return Ok((BufWriter::new(file), header.len() as u64));
    };
    let mut file = OpenOptions::new().write(true).open(out)?;
    file.set_len(checkpoint.csv_bytes)?;
    file.seek(std::io::SeekFrom::End(0))?;
    Ok((BufWriter::new(file), checkpoint.csv_bytes))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = options()?;
    let (url, _emulator) = match std::env::var("B24_WEBHOOK_URL") {
        Ok(url) => (url, None),
        Err(_) => {
            // Seeded leads are the same on every run, so an export can resume on a new emulator.
            let mut portal = Portal::demo();
            portal.seed_leads_with_gaps(options.leads);
            let emu = Emulator::start(portal).await?;
            eprintln!(
                "No B24_WEBHOOK_URL: using the embedded emulated portal at {}",
                emu.base_url()
            );
            let url = emu.webhook_url(DEMO_IDS.admin_user).expect("demo webhook");
            (url, Some(emu))
        }
    };
    let client = Client::from_webhook(&url)?;

    let checkpoint = Checkpoint::load(&options.out)?;
    if let Some(c) = checkpoint {
        eprintln!(
            "resuming {} after lead {}",
            options.out.display(),
            c.last_id
        );
    }
    let after = checkpoint.map_or(0, |c| c.last_id);
    let request = || LeadList::new().filter_by(">ID", after);

    // One counted page for the total (the bar's length and ETA), then the fast id cursor.
    let remaining = client
        .call(request().select(vec!["ID".to_owned()]))
        .with_meta()
        .await?
        .total
        .unwrap_or(0);
    let to_export = options
        .limit
        .map_or(remaining, |limit| limit.min(remaining));
    let bar = ProgressBar::new(to_export).with_style(ProgressStyle::with_template(
        "{bar:40} {pos}/{len} rows  {per_sec}  ETA {eta}",
    )?);

    let (mut csv, mut bytes) = open_csv(&options.out, checkpoint)?;
    let mut last_id = after;
    let mut written = 0u64;
    let mut leads = client.list_fast(request());
    while written < to_export {
        let Some(lead) = leads.try_next().await? else {
            break;
        };
        let line = row(&lead);
        csv.write_all(line.as_bytes())?;
        bytes += line.len() as u64;
        last_id = lead.id;
        written += 1;
        bar.inc(1);
        if written.is_multiple_of(CHECKPOINT_EVERY) {
            csv.flush()?;
            Checkpoint {
                last_id,
                csv_bytes: bytes,
            }
            .save(&options.out)?;
        }
    }
    csv.flush()?;
    bar.finish();
    if written < remaining {
        Checkpoint {
            last_id,
            csv_bytes: bytes,
        }
        .save(&options.out)?;
        println!(
            "stopped after {written} rows (last id {last_id}); run again to export the other {}",
            remaining - written
        );
    } else {
        match std::fs::remove_file(Checkpoint::path(&options.out)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
        println!(
            "exported {written} rows to {} (last id {last_id}): complete",
            options.out.display()
        );
    }
    Ok(())
}
