//! A TCP proxy that can cut a connection after a given number of bytes in either direction,
//! to drop a request or a response half-way.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    Never,
    /// Close both sides once this many request bytes have passed.
    Request(usize),
    /// Close both sides once this many response bytes have passed.
    Response(usize),
}

pub struct CutProxy {
    pub url: String,
    cut: Arc<Mutex<Cut>>,
    connections: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Copies `from` to `to` until `limit` bytes (if any) have passed, then stops.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    limit: Option<usize>,
) {
    let mut passed = 0;
    let mut buf = [0u8; 4096];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let allowed = limit.map_or(n, |l| n.min(l.saturating_sub(passed)));
        if to.write_all(&buf[..allowed]).await.is_err() {
            break;
        }
        passed += allowed;
        if allowed < n || limit.is_some_and(|l| passed >= l) {
            break;
        }
    }
}

impl CutProxy {
    pub async fn start(upstream: SocketAddr) -> CutProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let cut = Arc::new(Mutex::new(Cut::Never));
        let connections: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let shared = cut.clone();
        let open = connections.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let cut = *shared.lock().unwrap();
                let connection = tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    let (up, down) = match cut {
                        Cut::Never => (None, None),
                        Cut::Request(n) => (Some(n), None),
                        Cut::Response(n) => (None, Some(n)),
                    };
                    // Whichever direction ends first ends the connection: dropping the halves
                    // closes both sockets.
                    tokio::select! {
                        () = pump(cr, sw, up) => {}
                        () = pump(sr, cw, down) => {}
                    }
                });
                open.lock().unwrap().push(connection.abort_handle());
            }
        });
        CutProxy {
            url,
            cut,
            connections,
            task,
        }
    }

    /// Applies to connections opened from now on; open ones are closed, so a client's pooled
    /// connection cannot dodge the cut.
    pub fn set(&self, cut: Cut) {
        *self.cut.lock().unwrap() = cut;
        for c in self.connections.lock().unwrap().drain(..) {
            c.abort();
        }
    }
}
