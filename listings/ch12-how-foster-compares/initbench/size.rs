//! The binary on disk: its size, and whether it can go into an image
//! built `FROM scratch`.

use orphans::initbench::bench::Bench;
use orphans::initbench::plan::Measure;
use orphans::initbench::stats::Figures;

/// Binary size on disk, and whether the binary is static.
pub fn size(bench: &Bench, figures: &mut Figures, round: usize) {
    for init in bench.turns(Measure::Size, round) {
        let Some(path) = &init.path else { continue };
        if let Ok(bytes) = std::fs::read(path) {
            figures.record(&init.name, "size_bytes", bytes.len() as f64);
            // A static binary has no program interpreter (PT_INTERP).
            if let Ok(facts) = orphans::elf::facts(&bytes) {
                let is_static = !facts.has_interpreter;
                figures.record(&init.name, "static", f64::from(u8::from(is_static)));
            }
        }
    }
}
