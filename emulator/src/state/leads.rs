//! CRM leads, for `crm.lead.list` and paging tests: [`Lead`], [`Portal::seed_leads`].
//!
//! Leads are kept in a `Vec` sorted by id, so that a page or an `>ID` cursor is a binary search
//! away even with hundreds of thousands of rows.

use chrono::{DateTime, Duration as ChronoDuration, TimeZone, Utc};

use super::Portal;

/// The most leads [`Portal::seed_leads`] creates.
pub const MAX_SEEDED_LEADS: u64 = 10_000_000;

/// A CRM lead (the fields `crm.lead.list` answers).
#[derive(Debug, Clone, PartialEq)]
pub struct Lead {
    /// The lead id (`0` until added: the portal picks one above the largest).
    pub id: u64,
    /// `TITLE`.
    pub title: String,
    /// `DATE_CREATE`.
    pub date_create: DateTime<Utc>,
    /// `OPPORTUNITY`, answered with two decimals (`"100.00"`).
    pub opportunity: f64,
    /// `ASSIGNED_BY_ID`: the responsible user.
    pub assigned_by_id: u64,
}

impl Lead {
    /// A lead with a title, created now, opportunity 0, assigned to user 1.
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            id: 0,
            title: title.into(),
            date_create: Utc::now(),
            opportunity: 0.0,
            assigned_by_id: 1,
        }
    }

    /// The lead [`Portal::seed_leads`] creates for `id`: title `Lead #id`, created `id` minutes
    /// after 2026-01-01 00:00 UTC, opportunity `(id × 37 mod 100 + 1) × 100`, assigned to user 1.
    pub fn seeded(id: u64) -> Self {
        let epoch = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default();
        let minutes = i64::try_from(id).unwrap_or(i64::MAX);
        Self {
            id,
            title: format!("Lead #{id}"),
            date_create: epoch
                .checked_add_signed(ChronoDuration::minutes(minutes.min(1 << 30)))
                .unwrap_or(epoch),
            opportunity: ((id.wrapping_mul(37) % 100 + 1) * 100) as f64,
            assigned_by_id: 1,
        }
    }
}

/// A reproducible pseudo-random number for `n` (splitmix64).
fn mix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Portal {
    /// Replaces the leads with `count` generated ones ([`Lead::seeded`]) with ids `1..=count`, no
    /// gaps. At most [`MAX_SEEDED_LEADS`].
    pub fn seed_leads(&mut self, count: u64) {
        let count = count.min(MAX_SEEDED_LEADS);
        self.leads = (1..=count).map(Lead::seeded).collect();
    }

    /// Replaces the leads with `count` generated ones whose ids have gaps, as on a portal where
    /// leads were deleted: about one id in five is followed by 1 to 3 missing ids. The ids are the
    /// same on every call. At most [`MAX_SEEDED_LEADS`].
    pub fn seed_leads_with_gaps(&mut self, count: u64) {
        let count = count.min(MAX_SEEDED_LEADS);
        let mut id = 0u64;
        self.leads = (0..count)
            .map(|n| {
                let roll = mix(n);
                let gap = if roll.is_multiple_of(5) {
                    1 + (roll >> 8) % 3
                } else {
                    0
                };
                id = id.saturating_add(1 + gap);
                Lead::seeded(id)
            })
            .collect();
    }

    /// Adds (or replaces) a lead; returns its id.
    pub fn add_lead(&mut self, mut lead: Lead) -> u64 {
        if lead.id == 0 {
            lead.id = self
                .leads
                .last()
                .map_or(1, |last| last.id.saturating_add(1));
        }
        let id = lead.id;
        match self.leads.binary_search_by_key(&id, |l| l.id) {
            Ok(at) => self.leads[at] = lead,
            Err(at) => self.leads.insert(at, lead),
        }
        id
    }

    /// A lead by id.
    pub fn lead(&self, id: u64) -> Option<&Lead> {
        self.leads
            .binary_search_by_key(&id, |l| l.id)
            .ok()
            .and_then(|at| self.leads.get(at))
    }

    /// Deletes a lead and returns it.
    pub fn remove_lead(&mut self, id: u64) -> Option<Lead> {
        let at = self.leads.binary_search_by_key(&id, |l| l.id).ok()?;
        Some(self.leads.remove(at))
    }

    /// All leads, by id.
    pub fn leads(&self) -> &[Lead] {
        &self.leads
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeding_is_dense_or_gapped_and_deterministic() {
        let mut portal = Portal::new();
        portal.seed_leads(1000);
        assert_eq!(portal.leads().len(), 1000);
        assert_eq!(portal.leads().last().map(|l| l.id), Some(1000));
        portal.seed_leads_with_gaps(1000);
        let ids: Vec<u64> = portal.leads().iter().map(|l| l.id).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert!(*ids.last().unwrap_or(&0) > 1100, "gaps exist");
        let mut again = Portal::new();
        again.seed_leads_with_gaps(1000);
        assert_eq!(again.leads(), portal.leads());
    }

    #[test]
    fn add_keeps_order() {
        let mut portal = Portal::new();
        portal.seed_leads(3);
        assert_eq!(portal.add_lead(Lead::new("x")), 4);
        assert_eq!(portal.add_lead(Lead::new("y")), 5);
        let mut replaced = Lead::new("z");
        replaced.id = 2;
        portal.add_lead(replaced);
        assert_eq!(portal.lead(2).map(|l| l.title.as_str()), Some("z"));
        assert_eq!(portal.remove_lead(1).map(|l| l.id), Some(1));
        assert_eq!(portal.leads().len(), 4);
    }
}
