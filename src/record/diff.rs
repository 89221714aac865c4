//! A unified diff of a fixture before and after, for `--dry-run` and the step's log.

const CONTEXT: usize = 3;
/// Above this many cells the middle of the diff is shown as a block replacement instead of
/// being aligned line by line; fixture changes are a few lines, so this is never reached in
/// practice but keeps a pathological input from taking quadratic memory.
const MAX_ALIGN_CELLS: usize = 4_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Same,
    Removed,
    Added,
}

/// `diff -u` style output between `old` and `new`; empty when they are equal.
pub fn unified(old: &str, new: &str, old_label: &str, new_label: &str) -> String {
    if old == new {
        return String::new();
    }
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let script = edit_script(&old_lines, &new_lines);
    let mut out = format!("--- {old_label}\n+++ {new_label}\n");
    for (start, end) in hunks(&script) {
        write_hunk(&mut out, &script[start..end], &script[..start]);
    }
    out
}

fn edit_script<'a>(old: &[&'a str], new: &[&'a str]) -> Vec<(Tag, &'a str)> {
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let old_mid = &old[prefix..old.len() - suffix];
    let new_mid = &new[prefix..new.len() - suffix];
    let mut script: Vec<(Tag, &str)> = old[..prefix].iter().map(|l| (Tag::Same, *l)).collect();
    if (old_mid.len() + 1) * (new_mid.len() + 1) <= MAX_ALIGN_CELLS {
        align(old_mid, new_mid, &mut script);
    } else {
        script.extend(old_mid.iter().map(|l| (Tag::Removed, *l)));
        script.extend(new_mid.iter().map(|l| (Tag::Added, *l)));
    }
    script.extend(old[old.len() - suffix..].iter().map(|l| (Tag::Same, *l)));
    script
}

/// Longest-common-subsequence alignment of the changed middle.
fn align<'a>(old: &[&'a str], new: &[&'a str], script: &mut Vec<(Tag, &'a str)>) {
    let width = new.len() + 1;
    // lcs[i * width + j]: length of the LCS of old[i..] and new[j..].
    let mut lcs = vec![0u32; (old.len() + 1) * width];
    for i in (0..old.len()).rev() {
        for j in (0..new.len()).rev() {
            lcs[i * width + j] = if old[i] == new[j] {
                lcs[(i + 1) * width + j + 1] + 1
            } else {
                lcs[(i + 1) * width + j].max(lcs[i * width + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        if i < old.len() && j < new.len() && old[i] == new[j] {
            script.push((Tag::Same, old[i]));
            i += 1;
            j += 1;
        } else if j < new.len()
            && (i == old.len() || lcs[i * width + j + 1] > lcs[(i + 1) * width + j])
        {
            script.push((Tag::Added, new[j]));
            j += 1;
        } else {
            script.push((Tag::Removed, old[i]));
            i += 1;
        }
    }
}

/// Ranges of the script to show: each change with up to [`CONTEXT`] lines around it,
/// merging changes whose context would touch.
fn hunks(script: &[(Tag, &str)]) -> Vec<(usize, usize)> {
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for (index, (tag, _)) in script.iter().enumerate() {
        if *tag == Tag::Same {
            continue;
        }
        let start = index.saturating_sub(CONTEXT);
        let end = (index + 1 + CONTEXT).min(script.len());
        match ranges.last_mut() {
            Some(last) if start <= last.1 => last.1 = end,
            _ => ranges.push((start, end)),
        }
    }
    ranges
}

fn write_hunk(out: &mut String, hunk: &[(Tag, &str)], before: &[(Tag, &str)]) {
    let old_before = before.iter().filter(|(t, _)| *t != Tag::Added).count();
    let new_before = before.iter().filter(|(t, _)| *t != Tag::Removed).count();
    let old_count = hunk.iter().filter(|(t, _)| *t != Tag::Added).count();
    let new_count = hunk.iter().filter(|(t, _)| *t != Tag::Removed).count();
    // An empty side is numbered by the line it follows, as `diff -u` does.
    let old_start = if old_count == 0 {
        old_before
    } else {
        old_before + 1
    };
    let new_start = if new_count == 0 {
        new_before
    } else {
        new_before + 1
    };
    out.push_str(&format!(
        "@@ -{old_start},{old_count} +{new_start},{new_count} @@\n"
    ));
    for (tag, line) in hunk {
        out.push(match tag {
            Tag::Same => ' ',
            Tag::Removed => '-',
            Tag::Added => '+',
        });
        out.push_str(line);
        if !line.ends_with('\n') {
            out.push_str("\n\\ No newline at end of file\n");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(unified("a\n", "a\n", "a", "b"), "");
    }

    #[test]
    fn shows_a_changed_line_with_context() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
        let new = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
        assert_eq!(
            unified(old, new, "a/f", "b/f"),
            "--- a/f\n+++ b/f\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"
        );
    }

    #[test]
    fn separates_distant_changes_into_hunks() {
        let old: String = (1..=20).map(|n| format!("{n}\n")).collect();
        let new: String = (1..=20)
            .map(|n| match n {
                2 => "two\n".to_owned(),
                19 => "nineteen\n".to_owned(),
                n => format!("{n}\n"),
            })
            .collect();
        let diff = unified(&old, &new, "a", "b");
        assert_eq!(diff.matches("@@ -").count(), 2, "{diff}");
        assert!(diff.contains("-2\n+two\n"));
        assert!(diff.contains("-19\n+nineteen\n"));
    }

    #[test]
    fn a_new_file_is_all_additions() {
        assert_eq!(
            unified("", "[\n]\n", "/dev/null", "b/x.json"),
            "--- /dev/null\n+++ b/x.json\n@@ -0,0 +1,2 @@\n+[\n+]\n"
        );
    }

    #[test]
    fn inserted_lines_are_aligned() {
        let diff = unified("a\nb\nc\n", "a\nx\nb\nc\n", "o", "n");
        assert_eq!(diff, "--- o\n+++ n\n@@ -1,3 +1,4 @@\n a\n+x\n b\n c\n");
    }
}
