//! [`Portal::fire_event`]: an event reaching the handlers bound to it.

use chrono::Utc;
use serde_json::Value;

use super::{OfflineRecord, Outgoing};
use crate::state::Portal;

impl Portal {
    /// Raises `event` (any case) with `data`, caused by `user_id`: each online handler bound to it
    /// gets a POST (sent after the current call has answered, or by
    /// [`Emulator::deliver_events`](crate::Emulator::deliver_events)), each offline handler's
    /// queue a record (or, if an unreserved record of the same event and data is there, that
    /// record's time moves: the queue keeps the latest state, not every change). Returns how
    /// many handlers it reached.
    ///
    /// ```
    /// use b24_emulator::Portal;
    /// let mut portal = Portal::demo();
    /// assert_eq!(portal.fire_event("ONCRMLEADADD", serde_json::json!({"FIELDS": {"ID": 1}}), 1), 0);
    /// ```
    pub fn fire_event(&mut self, event: &str, data: Value, user_id: u64) -> usize {
        let event = event.to_ascii_uppercase();
        let now = Utc::now();
        let bound: Vec<_> = self
            .events
            .bindings
            .iter()
            .filter(|b| b.event == event)
            .cloned()
            .collect();
        for binding in &bound {
            let acting = if binding.auth_type == 0 {
                user_id
            } else {
                binding.auth_type
            };
            if !binding.offline {
                self.events.outbox.push(Outgoing {
                    binding_id: binding.id,
                    client_id: binding.client_id.clone(),
                    url: binding.handler.clone(),
                    event: event.clone(),
                    data: data.clone(),
                    user_id: Some(acting),
                });
                continue;
            }
            let queue = &mut self.events.queue;
            let same = queue.iter_mut().find(|r| {
                r.client_id == binding.client_id
                    && r.auth_connector == binding.auth_connector
                    && r.event == event
                    && r.data == data
                    && r.process_id.is_empty()
                    && !r.error
            });
            if let Some(record) = same {
                record.time = now;
                continue;
            }
            self.events.next_record += 1;
            let id = self.events.next_record;
            self.events.queue.push(OfflineRecord {
                id,
                message_id: id,
                client_id: binding.client_id.clone(),
                auth_connector: binding.auth_connector.clone(),
                event: event.clone(),
                data: data.clone(),
                user_id: acting,
                time: now,
                process_id: String::new(),
                error: false,
            });
        }
        bound.len()
    }

    /// The registered handlers (`event.bind`), oldest first.
    pub fn event_bindings(&self) -> &[super::Binding] {
        &self.events.bindings
    }

    /// The offline queue, oldest first.
    pub fn offline_events(&self) -> &[OfflineRecord] {
        &self.events.queue
    }

    /// The applications installed with [`Emulator::install_app`](crate::Emulator::install_app).
    pub fn installed_apps(&self) -> impl Iterator<Item = &super::InstalledApp> {
        self.events.apps.values()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::events::Binding;

    fn bind(portal: &mut Portal, id: u64, event: &str, offline: bool) {
        portal.events.bindings.push(Binding {
            id,
            client_id: "app".into(),
            event: event.into(),
            handler: if offline {
                String::new()
            } else {
                "http://127.0.0.1:1/".into()
            },
            auth_type: 0,
            offline,
            auth_connector: String::new(),
        });
    }

    #[test]
    fn the_queue_keeps_one_record_per_event_and_data() {
        let mut portal = Portal::demo();
        bind(&mut portal, 1, "ONCRMLEADADD", true);
        bind(&mut portal, 2, "ONCRMLEADADD", false);
        assert_eq!(
            portal.fire_event("oncrmleadadd", json!({"FIELDS": {"ID": 1}}), 1),
            2
        );
        assert_eq!(
            portal.fire_event("ONCRMLEADADD", json!({"FIELDS": {"ID": 1}}), 1),
            2
        );
        assert_eq!(
            portal.fire_event("ONCRMLEADADD", json!({"FIELDS": {"ID": 2}}), 1),
            2
        );
        assert_eq!(portal.fire_event("ONCRMLEADUPDATE", json!({}), 1), 0);
        let queued: Vec<_> = portal
            .offline_events()
            .iter()
            .map(|r| r.data["FIELDS"]["ID"].clone())
            .collect();
        assert_eq!(queued, [json!(1), json!(2)]);
        assert_eq!(
            portal.events.outbox.len(),
            3,
            "every online firing is delivered"
        );
        // A reserved record is not merged into: the change after it is a record of its own.
        portal.events.queue[0].process_id = "p".into();
        portal.fire_event("ONCRMLEADADD", json!({"FIELDS": {"ID": 1}}), 1);
        assert_eq!(portal.offline_events().len(), 3);
    }
}
