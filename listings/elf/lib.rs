//! The ELF headers (elf(5)) of the project's binaries, read and written:
//! what a binary is built for (`e_machine`), whether it is static (no
//! program interpreter, so it starts in an image `FROM scratch`) and
//! whether it is stripped (no symbol table). The book's image and the
//! release tool (`cargo xtask dist`) both check their binaries with
//! [`facts`]; [`smallest_program`] writes the one-file program of the
//! Docker check. Offsets are checked against the file: a damaged file is
//! an error, never a panic.

/// `e_machine` values of the two release targets (elf(5), `<elf.h>`).
pub const EM_X86_64: u16 = 62;
pub const EM_AARCH64: u16 = 183;

/// `PT_INTERP`: the program header naming the dynamic loader.
const PT_INTERP: u32 = 3;
/// `SHT_SYMTAB`: the section that `strip` removes.
const SHT_SYMTAB: u32 = 2;

#[derive(Debug, PartialEq)]
pub struct Facts {
    pub machine: u16,
    pub has_interpreter: bool,
    pub has_symbol_table: bool,
}

/// Little-endian fields of a 64-bit ELF file, read without trusting its
/// offsets: anything outside the file is an error, not a panic.
struct Fields<'a>(&'a [u8]);

impl Fields<'_> {
    fn bytes<const N: usize>(&self, at: usize) -> Result<[u8; N], String> {
        at.checked_add(N)
            .and_then(|end| self.0.get(at..end))
            .and_then(|slice| slice.try_into().ok())
            .ok_or_else(|| format!("the ELF headers point outside the file (byte {at})"))
    }
    fn half(&self, at: usize) -> Result<u16, String> {
        self.bytes(at).map(u16::from_le_bytes)
    }
    fn word(&self, at: usize) -> Result<u32, String> {
        self.bytes(at).map(u32::from_le_bytes)
    }
    fn offset(&self, at: usize) -> Result<usize, String> {
        let value = self.bytes(at).map(u64::from_le_bytes)?;
        usize::try_from(value).map_err(|_| format!("offset {value} is too large"))
    }

    /// The type of each entry of a table of headers.
    fn entry_types(&self, table: &Table) -> Result<Vec<u32>, String> {
        let start = self.offset(table.offset_at)?;
        let size = usize::from(self.half(table.entry_size_at)?);
        let count = usize::from(self.half(table.count_at)?);
        (0..count)
            .map(|index| {
                let at = index
                    .checked_mul(size)
                    .and_then(|entry| entry.checked_add(start))
                    .and_then(|entry| entry.checked_add(table.type_in_entry))
                    .ok_or("the ELF headers overflow")?;
                self.word(at)
            })
            .collect()
    }
}

/// Where the ELF64 header keeps a table's offset, entry size and count,
/// and where an entry keeps its type.
struct Table {
    offset_at: usize,
    entry_size_at: usize,
    count_at: usize,
    type_in_entry: usize,
}

/// e_phoff, e_phentsize, e_phnum; p_type is an entry's first word.
const PROGRAM_HEADERS: Table = Table {
    offset_at: 0x20,
    entry_size_at: 0x36,
    count_at: 0x38,
    type_in_entry: 0,
};

/// e_shoff, e_shentsize, e_shnum; sh_type is an entry's second word.
const SECTION_HEADERS: Table = Table {
    offset_at: 0x28,
    entry_size_at: 0x3a,
    count_at: 0x3c,
    type_in_entry: 4,
};

/// e_machine.
const MACHINE_AT: usize = 0x12;

/// Reads the facts from the whole file's bytes.
pub fn facts(file: &[u8]) -> Result<Facts, String> {
    if file.get(..6) != Some(b"\x7fELF\x02\x01") {
        return Err("not a 64-bit little-endian ELF file".into());
    }
    let fields = Fields(file);
    let programs = fields.entry_types(&PROGRAM_HEADERS)?;
    let sections = fields.entry_types(&SECTION_HEADERS)?;
    Ok(Facts {
        machine: fields.half(MACHINE_AT)?,
        has_interpreter: programs.contains(&PT_INTERP),
        has_symbol_table: sections.contains(&SHT_SYMTAB),
    })
}

/// A complete static program for Linux on `arch` (`x86_64`, `aarch64`)
/// that exits with status 0 and does nothing else: a 64-bit ELF header, one
/// loadable segment that maps the whole file, and two or three
/// instructions. `None` for an architecture it does not know.
pub fn smallest_program(arch: &str) -> Option<Vec<u8>> {
    const BASE: u64 = 0x40_0000;
    const HEADERS: u64 = 64 + 56;
    let (machine, code): (u16, &[u8]) = match arch {
        // xor edi, edi; mov eax, 231 (exit_group); syscall
        "x86_64" => (EM_X86_64, &[0x31, 0xff, 0xb8, 0xe7, 0, 0, 0, 0x0f, 0x05]),
        // mov x0, #0; mov x8, #94 (exit_group); svc #0
        "aarch64" => (
            EM_AARCH64,
            &[
                0x00, 0x00, 0x80, 0xd2, 0xc8, 0x0b, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4,
            ],
        ),
        _ => return None,
    };
    let size = HEADERS + code.len() as u64;
    let mut elf = Vec::with_capacity(size as usize);
    // The file header: magic, 64-bit, little-endian, version 1, System V.
    elf.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    elf.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    elf.extend_from_slice(&machine.to_le_bytes());
    elf.extend_from_slice(&1u32.to_le_bytes()); // EV_CURRENT
    elf.extend_from_slice(&(BASE + HEADERS).to_le_bytes()); // entry: the code
    elf.extend_from_slice(&64u64.to_le_bytes()); // program headers follow
    elf.extend_from_slice(&0u64.to_le_bytes()); // no section headers
    elf.extend_from_slice(&0u32.to_le_bytes()); // flags
    for half in [64u16, 56, 1, 64, 0, 0] {
        // header size, program header size and count, section header
        // size, count and string table index
        elf.extend_from_slice(&half.to_le_bytes());
    }
    // The one program header: PT_LOAD, readable and executable, the file
    // from offset 0 mapped at BASE.
    elf.extend_from_slice(&1u32.to_le_bytes());
    elf.extend_from_slice(&5u32.to_le_bytes());
    for word in [0, BASE, BASE, size, size, 0x1000] {
        elf.extend_from_slice(&word.to_le_bytes());
    }
    elf.extend_from_slice(code);
    Some(elf)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 64-byte ELF64 header with one program header of type `program`
    /// and one section header of type `section`, right after it.
    fn tiny_elf(machine: u16, program: u32, section: u32) -> Vec<u8> {
        let mut file = vec![0u8; 64 + 56 + 64];
        file[..6].copy_from_slice(b"\x7fELF\x02\x01");
        file[0x12..0x14].copy_from_slice(&machine.to_le_bytes());
        file[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
        file[0x28..0x30].copy_from_slice(&120u64.to_le_bytes());
        file[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        file[0x38..0x3a].copy_from_slice(&1u16.to_le_bytes());
        file[0x3a..0x3c].copy_from_slice(&64u16.to_le_bytes());
        file[0x3c..0x3e].copy_from_slice(&1u16.to_le_bytes());
        file[64..68].copy_from_slice(&program.to_le_bytes());
        file[124..128].copy_from_slice(&section.to_le_bytes());
        file
    }

    #[test]
    fn reads_machine_interpreter_and_symbols() {
        let facts = |file: Vec<u8>| super::facts(&file);
        assert_eq!(
            facts(tiny_elf(EM_AARCH64, 1, 1)),
            Ok(Facts {
                machine: EM_AARCH64,
                has_interpreter: false,
                has_symbol_table: false
            })
        );
        let dynamic = facts(tiny_elf(EM_X86_64, PT_INTERP, SHT_SYMTAB));
        assert!(dynamic.is_ok_and(|f| f.has_interpreter && f.has_symbol_table));
    }

    #[test]
    fn this_test_program_is_dynamic_and_has_symbols() {
        let file = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let facts = facts(&file).unwrap();
        assert!(facts.has_interpreter && facts.has_symbol_table, "{facts:?}");
    }

    #[test]
    fn damaged_files_are_errors() {
        assert!(facts(b"#!/bin/sh\n").is_err());
        let mut file = tiny_elf(EM_X86_64, 1, 1);
        file[0x38..0x3a].copy_from_slice(&u16::MAX.to_le_bytes());
        assert!(facts(&file).is_err());
        file.truncate(40);
        assert!(facts(&file).is_err());
    }

    #[test]
    fn the_smallest_program_is_static_and_runs() {
        let program = smallest_program(std::env::consts::ARCH).expect("a known architecture");
        let read = facts(&program).expect("its own headers");
        assert!(!read.has_interpreter && !read.has_symbol_table, "{read:?}");
        let dir = std::env::temp_dir().join(format!("orphans-exit0-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let path = dir.join("exit0");
        std::fs::write(&path, &program).expect("write it");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let status = std::process::Command::new(&path).status();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(status.expect("it starts").success());
        assert_eq!(smallest_program("mips"), None);
        let other = smallest_program("aarch64").expect("arm64");
        assert_eq!(facts(&other).map(|f| f.machine), Ok(EM_AARCH64));
    }
}
