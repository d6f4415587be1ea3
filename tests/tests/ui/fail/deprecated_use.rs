//! Users of deprecated declarations get the warnings (denied here to show them).
#![deny(deprecated)]

mod api {
    use b24::{b24_method, b24_object};

    #[b24_method("im.chat.old.get", response = OldChat)]
    #[deprecated(note = "use im.chat.get")]
    pub struct OldChatGet {
        pub chat_id: i64,
        #[deprecated(note = "ignored by the portal")]
        pub mode: Option<String>,
    }

    #[b24_object]
    #[deprecated(note = "use Chat")]
    pub struct OldChat {
        pub id: i64,
    }
}

async fn call(client: &b24::Client) {
    let _ = api::chat_old_get(client, 1).await;
}

fn main() {
    let _ = api::OldChatGet::new(1).mode("x");
    let _: Option<api::OldChat> = None;
    let _ = call;
}
