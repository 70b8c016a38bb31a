//! Preparing the measured imgate config, and pinning the generator.

use std::path::{Path, PathBuf};

/// Copies the folder of `config` (lexicons, models, publishers list: the config refers to them
/// by relative path) into `dest`, and rewrites the copy of the config for the bench: the
/// ephemeral listen and upstream addresses, `threads` (the same as the baseline's), no admin
/// listener (a fixed admin port would collide with a running imgate, and the baseline has none),
/// no access log and `warn` logging (the baseline logs nothing per request either). Everything else,
/// the rules included, stays as shipped. Returns the new config's path and text.
pub fn prepare_config(
    config: &Path,
    dest: &Path,
    listen: &str,
    upstream: &str,
    threads: usize,
) -> Result<(PathBuf, String), String> {
    let src_dir = config.parent().unwrap_or(Path::new("."));
    copy_dir(src_dir, dest)?;
    let text = std::fs::read_to_string(config)
        .map_err(|e| format!("cannot read {}: {e}", config.display()))?;
    let mut table: toml::Table = text
        .parse()
        .map_err(|e| format!("{}: {e}", config.display()))?;
    set(&mut table, &["listen", "address"], listen.into());
    set(
        &mut table,
        &["upstream", "addresses"],
        toml::Value::Array(vec![upstream.into()]),
    );
    set(
        &mut table,
        &["server", "threads"],
        toml::Value::Integer(i64::try_from(threads).unwrap_or(1)),
    );
    // A fixed socket path would collide with another imgate on the machine (tests, a demo).
    let has_upgrade_sock = table
        .get("server")
        .and_then(|s| s.get("upgrade_sock"))
        .is_some();
    if has_upgrade_sock {
        let sock = dest.join("upgrade.sock").display().to_string();
        set(&mut table, &["server", "upgrade_sock"], sock.into());
    }
    set(&mut table, &["admin", "address"], "".into());
    set(&mut table, &["logging", "access_log"], false.into());
    set(&mut table, &["logging", "level"], "warn".into());
    let rewritten = toml::to_string(&table).map_err(|e| format!("re-serialising config: {e}"))?;
    let file_name = config.file_name().unwrap_or("imgate.toml".as_ref());
    let path = dest.join(file_name);
    std::fs::write(&path, &rewritten).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((path, rewritten))
}

/// Sets `table[path[0]][path[1]]..` to `value`, creating the tables on the way.
fn set(table: &mut toml::Table, path: &[&str], value: toml::Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut current = table;
    for key in parents {
        let entry = current
            .entry(key.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        let toml::Value::Table(next) = entry else {
            return;
        };
        current = next;
    }
    current.insert(last.to_string(), value);
}

fn copy_dir(src: &Path, dest: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    let entries = std::fs::read_dir(src).map_err(|e| format!("{}: {e}", src.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", src.display()))?;
        let from = entry.path();
        let to = dest.join(entry.file_name());
        if from.is_dir() {
            copy_dir(&from, &to)?;
        } else {
            std::fs::copy(&from, &to).map_err(|e| format!("{}: {e}", from.display()))?;
        }
    }
    Ok(())
}

/// Pins the calling process's threads (and those it starts later) to `cpu`.
pub fn pin_self(cpu: usize) -> Result<(), String> {
    let mut set = nix::sched::CpuSet::new();
    set.set(cpu).map_err(|e| format!("cpu {cpu}: {e}"))?;
    nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set)
        .map_err(|e| format!("sched_setaffinity(cpu {cpu}): {e}"))
}
