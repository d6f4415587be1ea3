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
