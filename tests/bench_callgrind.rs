//! The load bench's reading of callgrind dumps (`benches/load/callgrind.rs`). Tested here:
//! bench targets are built without a test harness, so tests inside them never run.

#[path = "../benches/load/callgrind.rs"]
#[allow(dead_code)]
mod callgrind;

#[test]
fn reads_the_instruction_count_of_a_dump() {
    let dump =
        "# callgrind format\nversion: 1\nevents: Ir\nsummary: 541603131\n\nfn=(1) main\n3 4\n";
    assert_eq!(callgrind::summary(dump), Some(541_603_131));
    assert_eq!(callgrind::summary("events: Ir\ntotals: 12 3\n"), Some(12));
    assert_eq!(callgrind::summary("events: Ir\n"), None);
    assert_eq!(callgrind::summary("summary: many\n"), None);
}
