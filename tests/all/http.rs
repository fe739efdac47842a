//! End-to-end: the HTTP/1.1 connection as the SIP engine uses it: keep-alive between webhooks,
//! and the header-read timeout that also ends idle connections.

use std::{
    io::{Read as _, Write as _},
    net::TcpStream,
    time::Duration,
};

use crate::common::{FORM, TestServer, encode, repo_root, sip_webhook};
use twiml_edge_server::Config;

/// What `/bins/pstn-dial` answers `sip_webhook()`.
const PSTN_DIAL_BIN: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Dial \
     callerId=\"+14155550100\">+15125551212</Dial></Response>";

/// Reads one whole answer (head and `Content-Length` body) from `stream`.
fn read_answer(stream: &mut TcpStream) -> (String, String) {
    let mut answer = Vec::new();
    let mut buf = [0u8; 1];
    while !answer.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut buf).unwrap(), 1, "the connection closed");
        answer.push(buf[0]);
    }
    let head = String::from_utf8(answer).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .unwrap()
        .parse()
        .unwrap();
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    (
        head.lines().next().unwrap().to_owned(),
        String::from_utf8(body).unwrap(),
    )
}

/// Whether the server closed `stream` (or reset it) within `within`.
fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 64];
    match stream.read(&mut buf) {
        Ok(0) => true,
        Ok(n) => panic!("unexpected bytes {:?}", String::from_utf8_lossy(&buf[..n])),
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    }
}

async fn server(header_timeout: Duration) -> TestServer {
    TestServer::start(Config {
        templates: repo_root().join("templates"),
        header_timeout,
        ..Config::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_connection_carries_webhook_after_webhook() {
    let server = server(Duration::from_secs(15)).await;
    let addr = server.addr;
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let body = encode(&sip_webhook());
        let request = format!(
            "POST /bins/pstn-dial HTTP/1.1\r\nHost: x\r\nContent-Type: {FORM}\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        // In turn, then two sent at once (pipelined): each answered, in order, on one socket.
        for _ in 0..3 {
            stream.write_all(request.as_bytes()).unwrap();
            assert_eq!(
                read_answer(&mut stream),
                ("HTTP/1.1 200 OK".to_owned(), PSTN_DIAL_BIN.to_owned())
            );
        }
        stream
            .write_all(format!("{request}GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .unwrap();
        assert_eq!(read_answer(&mut stream).1, PSTN_DIAL_BIN);
        assert_eq!(read_answer(&mut stream).0, "HTTP/1.1 200 OK");
        // The client may end it: `Connection: close` is answered, then the socket closes.
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        assert_eq!(read_answer(&mut stream).0, "HTTP/1.1 200 OK");
        assert!(closed_within(&mut stream, Duration::from_secs(5)));
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_that_does_not_arrive_in_time_ends_its_connection_only() {
    let server = server(Duration::from_secs(1)).await;
    let addr = server.addr;
    tokio::task::spawn_blocking(move || {
        // Half a head, then nothing: closed once the header timeout passes, not before.
        let mut trickled = TcpStream::connect(addr).unwrap();
        trickled
            .write_all(b"POST /bins/pstn-dial HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        assert!(
            !closed_within(&mut trickled, Duration::from_millis(300)),
            "closed before the header timeout"
        );
        assert!(closed_within(&mut trickled, Duration::from_secs(10)));

        // A connection idle after an answer is closed the same way; one that sends its next
        // head in time is served.
        let mut idle = TcpStream::connect(addr).unwrap();
        idle.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let health = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
        idle.write_all(health).unwrap();
        assert_eq!(read_answer(&mut idle).0, "HTTP/1.1 200 OK");
        idle.write_all(health).unwrap();
        assert_eq!(read_answer(&mut idle).0, "HTTP/1.1 200 OK");
        assert!(closed_within(&mut idle, Duration::from_secs(10)));
    })
    .await
    .unwrap();
    // The server itself goes on.
    let answer = server.post_form("/bins/pstn-dial", &sip_webhook()).await;
    assert_eq!(answer.twiml(), PSTN_DIAL_BIN);
}
