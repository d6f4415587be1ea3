// Several mistakes in one declaration: every one is reported, at once, and nothing else
// (the struct is still emitted, so its uses below compile).
use b24::b24_method;

#[b24_method("crm.deal..get", respone = bool, errors(NOT_FOUND, "" = "Empty."))]
pub struct DealGet {
    #[b24(yn)]
    pub id: i64,
    pub auth: String,
    #[b24(colour = "red")]
    pub title: String,
}

fn main() {
    let deal = DealGet {
        id: 1,
        auth: String::new(),
        title: String::new(),
    };
    let _ = (deal.id, deal.auth, deal.title);
}
