//! End-to-end: an unmodified Twilio helper library (twilio-python) against a real server:
//! `tests/compat/twilio_client.py` drives the SipDomain resource and sends webhooks signed by
//! its own validator (form, `GET`, JSON with `bodySHA256`, a status callback), each with the
//! copies that must be refused. `scripts/test.sh` installs it in `target/python`.

use crate::common::{TestServer, guest, run_python, wait_for_calls};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_python_manages_sip_domains_and_signs_webhooks() {
    let (server, accounts, _data) = TestServer::with_accounts(&[true], |config| config).await;
    let account = &accounts[0];
    let function = server
        .api(account)
        .upload("/Functions.json?FriendlyName=pstn-dial", guest("pstn-dial"))
        .await
        .json(201);
    let base = server.url("");
    run_python(
        "twilio_client.py",
        &[
            ("BASE_URL", &base),
            ("ACCOUNT_SID", &account.sid),
            ("AUTH_TOKEN", &account.token),
            ("FUNCTION_URL", function["webhook_url"].as_str().unwrap()),
        ],
    )
    .await;
    // The form POST, the GET, the JSON POST and the status callback ran the function; none of
    // the refused copies did.
    let rest = format!(
        "/Functions/{}/Calls.json",
        function["sid"].as_str().unwrap()
    );
    let calls = wait_for_calls(&server, account, &rest, 4).await;
    let labels: Vec<_> = calls
        .iter()
        .map(|c| {
            (
                c["outcome"].as_str().unwrap(),
                c["target"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(calls.len(), 4, "{labels:?}");
    assert!(calls.iter().all(|c| c["outcome"] == "ok"), "{labels:?}");
    assert_eq!(
        labels
            .iter()
            .filter(|(_, target)| target.starts_with("status callback: "))
            .count(),
        1,
        "{labels:?}"
    );
}
