//! The handful of W3C WebDriver commands this test needs
//! (<https://www.w3.org/TR/webdriver2/>), over HTTP/1.1 on localhost.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{json, Value};

/// chromedriver's `/status`, or `None` while it is not listening.
pub fn status(port: u16) -> Option<Value> {
    request(port, "GET", "/status", None).ok()
}

/// Sends one request and returns the `value` of the JSON answer; an
/// error for a refused connection, a malformed answer or a WebDriver
/// error (whose message it carries).
fn request(port: u16, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    // A page that never finishes loading must not hang the test.
    let _ = stream.set_read_timeout(Some(Duration::from_secs(120)));
    let body = body.map(Value::to_string).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body.as_bytes()))
        .map_err(|e| format!("send {method} {path}: {e}"))?;
    // chromedriver keeps the connection open whatever the request says,
    // so the answer ends where its Content-Length says, not at EOF.
    let mut reader = BufReader::new(stream);
    let mut length = None;
    loop {
        let mut line = String::new();
        reader
            .read_line(&mut line)
            .map_err(|e| format!("read the answer to {method} {path}: {e}"))?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse::<usize>().ok();
            }
        }
    }
    let length = length.ok_or_else(|| format!("{method} {path}: no Content-Length"))?;
    let mut body = vec![0; length];
    reader
        .read_exact(&mut body)
        .map_err(|e| format!("read the answer to {method} {path}: {e}"))?;
    let body = String::from_utf8_lossy(&body);
    let json: Value = serde_json::from_str(&body)
        .map_err(|e| format!("{method} {path}: not JSON ({e}): {body}"))?;
    if let Some(error) = json["value"]["error"].as_str() {
        return Err(format!(
            "{method} {path}: {error}: {}",
            json["value"]["message"]
        ));
    }
    Ok(json["value"].clone())
}

/// A browser session; deleted (which closes the browser) on drop.
pub struct Session {
    port: u16,
    id: String,
}

impl Session {
    /// Starts headless Chromium with everything that would reach the
    /// network turned off. As root it needs `--no-sandbox`.
    pub fn start(port: u16, chromium: &str) -> Session {
        let arguments = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=1200,900",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-sync",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-default-apps",
            "--disable-domain-reliability",
            "--disable-breakpad",
            "--metrics-recording-only",
            "--no-pings",
            "--no-proxy-server",
            // Any host name but localhost fails to resolve: the book
            // must not need the internet, and must not reach it.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
            // The book is opened from file:// URLs; let its scripts
            // load the search index that sits beside the pages.
            "--allow-file-access-from-files",
        ];
        let capabilities = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": { "binary": chromium, "args": arguments },
                "timeouts": { "pageLoad": 60000, "script": 30000 },
            }}
        });
        let answer = request(port, "POST", "/session", Some(&capabilities))
            .unwrap_or_else(|e| panic!("start a browser session: {e}"));
        let id = answer["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no sessionId in {answer}"))
            .to_string();
        Session { port, id }
    }

    fn command(&self, method: &str, what: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}/{what}", self.id);
        request(self.port, method, &path, body.as_ref()).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Navigates to `url` and returns once the page has loaded.
    pub fn open(&self, url: &str) {
        self.command("POST", "url", Some(json!({ "url": url })));
    }

    /// Runs `script` (a function body) in the page; returns its result.
    pub fn run(&self, script: &str) -> Value {
        self.command(
            "POST",
            "execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    fn element(&self, css: &str) -> String {
        let found = self.command(
            "POST",
            "element",
            Some(json!({ "using": "css selector", "value": css })),
        );
        // The W3C name of the key that holds an element's reference.
        found["element-6066-11e4-a52e-4f735466cecf"]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_string()
    }

    pub fn click(&self, css: &str) {
        let id = self.element(css);
        self.command("POST", &format!("element/{id}/click"), Some(json!({})));
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.command(
            "POST",
            &format!("element/{id}/value"),
            Some(json!({ "text": text })),
        );
    }

    pub fn resize(&self, width: i64, height: i64) {
        self.command(
            "POST",
            "window/rect",
            Some(json!({ "width": width, "height": height })),
        );
    }

    /// Lays pages out as on a screen `width` x `height` CSS pixels wide
    /// (`mobile`: as a phone does, by the page's viewport meta tag), with
    /// Chrome's DevTools command Emulation.setDeviceMetricsOverride, which
    /// chromedriver passes on: a window cannot be made as narrow as a
    /// phone. Applies to pages opened from now on, until
    /// [`Session::stop_emulating`].
    pub fn emulate(&self, width: u32, height: u32, mobile: bool) {
        let params = json!({
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile,
        });
        self.devtools("Emulation.setDeviceMetricsOverride", params);
    }

    /// Back to the window's own size.
    pub fn stop_emulating(&self) {
        self.devtools("Emulation.clearDeviceMetricsOverride", json!({}));
    }

    /// One Chrome DevTools Protocol command, through chromedriver's
    /// `goog/cdp/execute` extension.
    fn devtools(&self, command: &str, params: Value) -> Value {
        self.command(
            "POST",
            "goog/cdp/execute",
            Some(json!({ "cmd": command, "params": params })),
        )
    }

    /// A PNG of the window.
    pub fn screenshot(&self) -> Vec<u8> {
        let encoded = self.command("GET", "screenshot", None);
        // WebDriver sends the PNG as standard base64 (RFC 4648).
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap_or(""))
            .expect("a screenshot in base64")
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let path = format!("/session/{}", self.id);
        let _ = request(self.port, "DELETE", &path, None);
    }
}
