//! The library import of `isms framework import DIR` without the web and report crates, for
//! timing it in a release build on a slow machine (bench/library/run.sh with STORE_ONLY=1):
//! the same parse (`import_ciso_assistant`) and the same store call (`import_library`), one
//! transaction per file.
//!
//! Usage: cargo run --release -p isms-store --example library_import -- DATABASE_URL DIR

use isms_store::{Actor, Store, Tenant};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(dir)) = (args.next(), args.next()) else {
        return Err("usage: library_import DATABASE_URL DIR".into());
    };
    let store = Store::open(&url).await?;
    let mut files: Vec<_> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    let (mut ok, mut refused) = (0, 0);
    for path in &files {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let bytes = std::fs::read(path)?;
        let outcome = match isms_catalog::import_ciso_assistant(&name, &bytes) {
            Ok(lib) => store
                .import_library(&lib, &name, false, Tenant::Installation, &Actor::cli())
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match outcome {
            Ok(()) => ok += 1,
            Err(e) => {
                refused += 1;
                eprintln!("{name}\trefused\t{e}");
            }
        }
    }
    println!("{} files: {ok} imported, {refused} refused", files.len());
    Ok(())
}
