//! The index over HTTPS (benchmarks): a client that trusts only the CA written at start
//! reaches it, over HTTP/2 when `h2` is offered and HTTP/1.1 when it is not.
use reqwest::Version;
use testbed::tls::ServerTls;
use testbed::WarehouseConfig;

use crate::support::start;

fn trusting(ca_pem: Option<&str>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder().tls_built_in_root_certs(false);
    if let Some(pem) = ca_pem {
        builder =
            builder.add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap());
    }
    builder.build().unwrap()
}

#[tokio::test]
async fn a_client_trusting_the_ca_uploads_over_h2_or_http1_as_alpn_offers() {
    for (http2, version) in [(true, Version::HTTP_2), (false, Version::HTTP_11)] {
        let tls = ServerTls::self_signed(http2).unwrap();
        let sink = start(WarehouseConfig {
            sink: true,
            tls: Some(tls.clone()),
            ..WarehouseConfig::default()
        })
        .await;
        assert!(sink.upload_url().starts_with("https://127.0.0.1:"));
        assert!(tls.ca_pem().starts_with("-----BEGIN CERTIFICATE-----\n"));

        let client = trusting(Some(tls.ca_pem()));
        let part = reqwest::multipart::Part::bytes(vec![7u8; 300_000])
            .file_name("pkg-1.0-py3-none-any.whl");
        let form = reqwest::multipart::Form::new()
            .text(":action", "file_upload")
            .text("name", "pkg")
            .text("version", "1.0")
            .part("content", part);
        let resp = client
            .post(sink.upload_url())
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.version(), version, "h2 offered: {http2}");
        assert_eq!(resp.status(), 200);
        assert_eq!(sink.uploads().len(), 1);

        // A client without the CA refuses the server.
        let err = trusting(None)
            .get(sink.simple_url())
            .send()
            .await
            .unwrap_err();
        assert!(err.is_connect(), "{err:?}");
    }
}
