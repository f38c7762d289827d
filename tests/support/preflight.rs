//! What every preflight test asserts: doctor names the problem and its fix, and install stops
//! before its first write, counted in the API server's audit log.

use super::audit;
use super::release::Fixture;
use super::skyctl::Outcome;

/// Installs with the condition in place must stop before writing: no request skyctl sent
/// since `mark` changed what the cluster stores (reviews and dry runs persist nothing).
pub fn assert_no_writes(mark: &audit::Mark, namespace: &str) {
    let writes: Vec<_> = mark
        .skyctl_requests(namespace)
        .into_iter()
        .filter(audit::Request::persists)
        .collect();
    assert!(writes.is_empty(), "skyctl wrote: {writes:#?}");
}

/// Doctor blocks naming the problem and its fix, and install then stops before any write and
/// records no release.
pub fn blocks_before_writing(f: &Fixture, args: &[&str], texts: &[&str]) -> Outcome {
    blocks_before_writing_at(f, args, texts, 0)
}

/// [`blocks_before_writing`] with skyctl's clock `ahead` seconds ahead.
pub fn blocks_before_writing_at(f: &Fixture, args: &[&str], texts: &[&str], ahead: u32) -> Outcome {
    let run = |verb: &str, args: &[&str]| {
        f.command(verb, args)
            .env(skyctl::clock::AHEAD_VARIABLE, &ahead.to_string())
            .run()
    };
    let doctor = run("doctor", args).code(1);
    for text in texts {
        assert!(
            doctor.stdout.contains(text),
            "doctor lacks {text:?}: {doctor:#?}"
        );
    }
    assert!(doctor.stderr.contains("block the install"), "{doctor:#?}");
    let mark = audit::mark();
    let mut install_args = args.to_vec();
    install_args.push("--no-wait");
    let install = run("install", &install_args).code(1);
    for text in texts {
        assert!(
            install.stderr.contains(text),
            "install lacks {text:?}: {install:#?}"
        );
    }
    assert!(
        install.stderr.contains("Nothing was changed"),
        "{install:#?}"
    );
    assert_no_writes(&mark, &f.ns.name);
    f.run("status", &[]).code(1).stderr_has("not found");
    doctor
}
