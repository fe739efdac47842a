//! End-to-end: an unmodified Twilio helper library (twilio-python) against a real server:
//! `tests/compat/twilio_client.py` drives the SipDomain resource and signs a webhook with its own
//! validator. `scripts/test.sh` installs it in `target/python`; `TWIML_EDGE_PYTHON` overrides.

use crate::common::{TestServer, guest, repo_root};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_python_manages_sip_domains_and_signs_webhooks() {
    let python = std::env::var_os("TWIML_EDGE_PYTHON")
        .map_or_else(|| repo_root().join("target/python/bin/python"), Into::into);
    assert!(
        python.exists(),
        "no {python:?}: run scripts/test.sh, which installs twilio-python there"
    );
    let (server, accounts, _data) = TestServer::with_accounts(&[true], |config| config).await;
    let account = &accounts[0];
    let function = server
        .api(account)
        .upload("/Functions.json?FriendlyName=pstn-dial", guest("pstn-dial"))
        .await
        .json(201);
    let output = tokio::process::Command::new(python)
        .arg(repo_root().join("tests/compat/twilio_client.py"))
        .env("BASE_URL", server.url(""))
        .env("ACCOUNT_SID", &account.sid)
        .env("AUTH_TOKEN", &account.token)
        .env("FUNCTION_URL", function["webhook_url"].as_str().unwrap())
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "twilio-python failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
