//! Post texts of the publish and marked scenarios, written for the bench (no corpus text).
//!
//! The political one is unambiguous news about diplomacy and a parliamentary vote; the sports
//! and tech ones avoid political vocabulary (no "minister", "party", "vote", ...) so the
//! classifier's answer is not in doubt. Each publish body is about 1 KiB of JSON.

/// A made-up diplomatic news report: a foreign minister's state visit and a treaty vote.
pub const POLITICAL_TITLE: &str =
    "Foreign minister ends state visit as parliament votes on trade treaty";
pub const POLITICAL_CONTENT: &str = "The foreign minister concluded a three-day state visit on \
Thursday with a joint press conference alongside the prime minister of the host country, hours \
before parliament held its decisive vote on the bilateral trade treaty. Members of the ruling \
party's parliamentary group backed the agreement, while the opposition leader told reporters \
that the cabinet had rushed the ratification without a proper committee hearing. The minister \
met the president at the presidential palace and signed a memorandum on consular cooperation \
before flying home. Diplomats from both foreign ministries said the treaty would take effect \
once the senate confirms it next month. Analysts expect the vote to dominate the coming \
election campaign, as several candidates have promised a referendum on the deal, and the \
embassy confirmed that a return visit by the head of government is planned for the spring \
session of the national assembly.";

/// A made-up football match report.
pub const SPORTS_TITLE: &str = "Late equaliser keeps the title race open after a wet derby";
pub const SPORTS_CONTENT: &str = "Rain fell throughout the derby on Saturday evening, and the \
pitch slowed every pass in the opening half hour. The visitors took the lead from a corner \
when their centre back rose above two defenders and headed into the far corner. The home side \
pressed after the break, hit the crossbar twice and saw a penalty appeal waved away after a \
long video review. With four minutes of stoppage time on the board, the substitute winger cut \
inside from the left and curled a shot past the diving goalkeeper to make it one each. The \
draw leaves both clubs level on points with six rounds to play, and the coach said his squad \
would recover in time for the cup semi-final on Wednesday. Ticket sales for the return \
fixture opened this morning and the first batch sold out within an hour, according to the \
club's supporters' trust, which is organising extra coaches for the away end.";

/// A made-up software release note.
pub const TECH_TITLE: &str = "Database release cuts query latency with a new columnar cache";
pub const TECH_CONTENT: &str = "The maintainers of the open-source database shipped version \
4.2 this week, headlined by a columnar cache that keeps hot segments of wide tables in memory \
in a compressed form. In the project's own benchmark suite, analytical queries over recent \
data finished up to three times faster, while write throughput stayed within two percent of \
the previous release. The release also adds incremental backups that only copy changed pages, \
a rewritten query planner for joins across partitioned tables, and support for the latest \
long-term release of the compiler toolchain. Upgrading needs a one-off index rebuild, which \
the tooling runs in the background while the node keeps serving reads. Early adopters on the \
mailing list reported smoother latency percentiles on mixed workloads, though a few noted that \
the cache needs tuning on machines with little memory, and the documentation now includes a \
sizing guide with worked examples for small and large clusters.";

/// A short, neutral timeline post (about 320 bytes of JSON with its author), so that 50 of
/// them make a timeline of about 16 KiB.
pub fn timeline_post(n: usize) -> (String, String) {
    let title = format!("Weekend notes #{n}");
    let content = format!(
        "Notes from weekend number {n}: repaired the garden fence, baked two loaves of rye \
         bread, walked the river path to the old mill and back, and finally finished the \
         jigsaw puzzle of the lighthouse."
    );
    (title, content)
}
