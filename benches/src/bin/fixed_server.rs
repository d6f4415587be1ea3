//! A fixed-answer HTTP/1.1 server for the out-of-process benchmarks (`client_cost`,
//! `client_alloc`, `callgrind.sh`): every POST, whatever its path and body, gets
//! [`b24_benches::fixed::ANSWER`] (a successful `imopenlines.session.start` with its `time`
//! block) with a cloud portal's headers; anything else gets 405. Keep-alive, no limit on
//! connections, TCP_NODELAY.
//!
//! ```sh
//! fixed_server [--port P]     # prints "127.0.0.1:PORT" on its first line, then serves
//! ```
//!
//! It runs on a current-thread tokio runtime (one core for the server, the other for the
//! client on a 2-core machine) and exits when its standard input is closed, so a bench that
//! dies does not leave it behind. The benches start it themselves (`b24_benches::fixed`).

use std::io::{Read, Write};

use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::serve::ListenerExt;
use axum::Router;
use b24_benches::fixed::{ANSWER, HEADERS};

async fn answer(method: Method, body: axum::body::Bytes) -> Response {
    drop(body); // read in full, as a portal does, then ignored
    if method != Method::POST {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let mut response = ANSWER.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    for (name, value) in HEADERS {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    response
}

fn main() {
    let mut port: u16 = 0;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => match args.next().and_then(|p| p.parse().ok()) {
                Some(p) => port = p,
                None => {
                    eprintln!("fixed_server: --port takes a port number");
                    std::process::exit(2);
                }
            },
            _ => {
                eprintln!("usage: fixed_server [--port P]");
                std::process::exit(2);
            }
        }
    }
    // Exit when the parent closes our stdin (or dies).
    std::thread::spawn(|| {
        let mut sink = [0u8; 64];
        while matches!(std::io::stdin().read(&mut sink), Ok(n) if n > 0) {}
        std::process::exit(0);
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        // A deep accept queue: the benches open 10,000 connections at once.
        let socket = tokio::net::TcpSocket::new_v4().expect("a TCP socket");
        socket
            .bind(([127, 0, 0, 1], port).into())
            .expect("bind 127.0.0.1");
        let listener = socket.listen(16_384).expect("listen");
        let addr = listener.local_addr().expect("local address");
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{addr}").expect("print the address");
            out.flush().expect("print the address");
        }
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let app = Router::new().fallback(answer);
        axum::serve(listener, app).await.expect("serve");
    });
}
