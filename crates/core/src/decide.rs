//! Access decisions: the order of checks of `docs/interfaces.md#events`, as a pure function of state and
//! time (`Core::decide`) that returns a typed [`Permit`] or [`Denial`]. Turning a decision into
//! an event, a door actuation and a reply, and noting what it changes (presence, quotas,
//! visitor entries, phone mismatches), is `apply.rs`'s job.
//!
//! Exits use the same order with their own defaults: egress is never refused for door or zone
//! modes, schedules or missing door access; only a quarantine (`quarantine_exit`), an exit
//! quota, a dead controller or the pass itself can refuse an exit by card, and the exit button
//! opens the door whatever the decision.

mod apply;
#[cfg(test)]
mod tests;

use crate::config::{ApbMode, Door, Verify};
use crate::core::Core;
use crate::estate::{Pass, PassStatus, Person};
use crate::event::{AlarmKind, Direction, Method, Reason};
use crate::io::Credential;
use crate::lockdown::LockdownMode;
use jiff::{SignedDuration, Timestamp};

/// A request with its access point resolved to a door and a direction.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub door: &'a Door,
    pub direction: Direction,
    pub credential: &'a Credential,
    pub pin: Option<&'a str>,
    pub requested_at: Option<Timestamp>,
}

/// Who presented what, as far as the core could tell.
#[derive(Clone, Copy, Debug, Default)]
pub struct Who<'a> {
    pub pass: Option<&'a Pass>,
    pub person: Option<&'a Person>,
    /// The household the passage is for: the holder's, or a visitor's host.
    pub household: Option<&'a str>,
    /// The card number, recorded when no pass holds it.
    pub unknown_card: Option<&'a str>,
}

/// Let through, and by which rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Permit {
    /// `granted`, `granted_override` or `fire_release`.
    pub reason: Reason,
    /// An alarm to raise beside the grant (soft anti-passback).
    pub alarm: Option<AlarmKind>,
    /// The holder's phone digits were checked and matched.
    pub phone_matched: bool,
}

/// Refused, with the reason of the first failing check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denial {
    pub reason: Reason,
    /// The reader should ask for the phone digits.
    pub need_pin: bool,
    /// An alarm to raise beside the refusal (`quarantine_exit`).
    pub alarm: Option<AlarmKind>,
    /// The phone digits matched before a later check refused.
    pub phone_matched: bool,
}

impl Denial {
    fn new(reason: Reason) -> Denial {
        Denial {
            reason,
            need_pin: false,
            alarm: None,
            phone_matched: false,
        }
    }
}

/// A decision and whom it was about.
#[derive(Clone, Debug)]
pub struct Verdict<'a> {
    pub who: Who<'a>,
    pub method: Method,
    pub outcome: Result<Permit, Denial>,
}

/// What the credential turned out to be.
enum Identity<'a> {
    Pass(&'a Pass, Option<crate::visitor::Claims>),
    Unknown,
    QrInvalid,
}

impl Core {
    /// Decides `req` at `now`. Pure: reads state, changes nothing.
    pub(crate) fn decide<'a>(&'a self, req: &Request<'a>, now: Timestamp) -> Verdict<'a> {
        let identity = self.identify(req.credential);
        let who = self.who(req.credential, &identity);
        let method = self.method(req);
        let outcome = self.check_in_order(req, &identity, &who, now);
        Verdict {
            who,
            method,
            outcome,
        }
    }

    fn check_in_order(
        &self,
        req: &Request<'_>,
        identity: &Identity<'_>,
        who: &Who<'_>,
        now: Timestamp,
    ) -> Result<Permit, Denial> {
        // 1. Fresh: dated no more than `max_swipe_age_s` before now, nor after it (a reader
        // clock that far ahead is as wrong as one that far behind, and a request dated in the
        // future would stay "fresh" long after it was made).
        if let Some(at) = req.requested_at
            && now.duration_since(at).abs()
                > SignedDuration::from_secs(i64::from(self.model.policy.max_swipe_age_s))
        {
            return Err(Denial::new(Reason::StaleRequest));
        }
        // 2. Fire release: the door is already free.
        if self.fire_released(req.door) {
            return Ok(Permit {
                reason: Reason::FireRelease,
                alarm: None,
                phone_matched: false,
            });
        }
        // 3. Credential known.
        let (pass, claims) = match identity {
            Identity::Pass(pass, claims) => (*pass, claims.as_ref()),
            Identity::Unknown => return Err(Denial::new(Reason::UnknownPass)),
            Identity::QrInvalid => return Err(Denial::new(Reason::QrInvalid)),
        };
        let entry = req.direction == Direction::In;
        // 4. Pass state. A visitor's entries count at the estate's street doors only.
        let into_estate = entry && req.door.outside == crate::model::OUTSIDE;
        self.check_pass(pass, claims, into_estate, now)
            .map_err(Denial::new)?;
        // 5. Log writable (entries only).
        if entry && !self.log_writable {
            return Err(Denial::new(Reason::LogUnavailable));
        }
        // 6. Door and zone modes.
        let overridden = match self.check_modes(req, pass, who, now) {
            Ok(()) => false,
            Err(_) if pass.override_modes => true,
            Err(denial) => return Err(denial),
        };
        // 7. Phone matching.
        let phone_matched = self.check_phone(req, who)?;
        let refuse = |reason| Denial {
            reason,
            need_pin: false,
            alarm: None,
            phone_matched,
        };
        // 8. Anti-passback.
        let alarm = self.check_passback(req, pass, now).map_err(refuse)?;
        // 9. Exit quota.
        self.check_quota(req, who, now).map_err(refuse)?;
        // 10. Door reachable.
        if !self.doors.is_online(&req.door.id) {
            return Err(refuse(Reason::DoorOffline));
        }
        // 11. Grant.
        let reason = if overridden {
            Reason::GrantedOverride
        } else {
            Reason::Granted
        };
        Ok(Permit {
            reason,
            alarm,
            phone_matched,
        })
    }

    fn identify(&self, credential: &Credential) -> Identity<'_> {
        match credential {
            Credential::Card(card) => match self.model.card_holder(card) {
                Some(pass) => Identity::Pass(pass, None),
                None => self
                    .model
                    .pass(card.as_str())
                    .map_or(Identity::Unknown, |p| Identity::Pass(p, None)),
            },
            Credential::PassNumber(number) => self
                .model
                .find_pass(number)
                .map_or(Identity::Unknown, |p| Identity::Pass(p, None)),
            Credential::Qr(token) => {
                match crate::visitor::verify_token(
                    self.gateway_key.as_ref().map(|k| &k.public),
                    token,
                ) {
                    Err(_) => Identity::QrInvalid,
                    Ok(claims) => match self.model.pass(&claims.pass) {
                        Some(pass) => Identity::Pass(pass, Some(claims)),
                        None => Identity::Unknown,
                    },
                }
            }
        }
    }

    fn who<'a>(&'a self, credential: &'a Credential, identity: &Identity<'a>) -> Who<'a> {
        match identity {
            Identity::Pass(pass, _) => {
                let person = self.model.person(&pass.holder);
                let household = match &pass.visitor {
                    Some(v) => Some(v.host_household.as_str()),
                    None => person.and_then(|p| p.household.as_deref()),
                };
                Who {
                    pass: Some(pass),
                    person,
                    household,
                    unknown_card: None,
                }
            }
            _ => Who {
                unknown_card: match credential {
                    Credential::Card(card) => Some(card.as_str()),
                    Credential::PassNumber(card) => Some(card),
                    Credential::Qr(_) => None,
                },
                ..Who::default()
            },
        }
    }

    /// How the person proved who they are.
    fn method(&self, req: &Request<'_>) -> Method {
        match req.credential {
            Credential::Qr(_) => Method::Qr,
            Credential::PassNumber(_) => Method::Guard,
            Credential::Card(_) if req.direction == Direction::Out => Method::Card,
            Credential::Card(_) => match req.door.verify {
                Verify::Card => Method::Card,
                Verify::CardPhone => Method::CardPhone,
                Verify::Guard => Method::Guard,
            },
        }
    }

    /// Step 4: status, validity window, visitor window and entries.
    fn check_pass(
        &self,
        pass: &Pass,
        claims: Option<&crate::visitor::Claims>,
        into_estate: bool,
        now: Timestamp,
    ) -> Result<(), Reason> {
        match pass.status {
            PassStatus::Active => {}
            PassStatus::Revoked => return Err(Reason::PassRevoked),
            PassStatus::Suspended => return Err(Reason::PassSuspended),
            PassStatus::Lost => return Err(Reason::PassLost),
        }
        let early = pass.valid_from.is_some_and(|from| now < from);
        let late = pass.valid_until.is_some_and(|until| now >= until);
        match &pass.visitor {
            None => {
                if early {
                    return Err(Reason::PassNotYetValid);
                }
                if late {
                    return Err(Reason::PassExpired);
                }
            }
            Some(visitor) => {
                if early || late || claims.is_some_and(|c| !c.valid_at(now)) {
                    return Err(Reason::VisitorNotValid);
                }
                if into_estate
                    && visitor
                        .entries_allowed
                        .is_some_and(|n| visitor.entries_used >= n)
                {
                    return Err(Reason::VisitorEntriesUsed);
                }
            }
        }
        Ok(())
    }

    /// Step 6: lockdown, residents only, the door's schedule, the pass's groups. Exits are
    /// refused here only by a quarantine.
    fn check_modes(
        &self,
        req: &Request<'_>,
        pass: &Pass,
        who: &Who<'_>,
        now: Timestamp,
    ) -> Result<(), Denial> {
        let door = req.door;
        if req.direction == Direction::Out {
            if self
                .lockdown
                .crossed_by(&self.model, door)
                .any(|l| l.mode == LockdownMode::Quarantine)
            {
                return Err(Denial {
                    alarm: Some(AlarmKind::QuarantineExit),
                    ..Denial::new(Reason::QuarantineExit)
                });
            }
            return Ok(());
        }
        if !self.lockdown.active().is_empty() {
            if self
                .lockdown
                .crossed_by(&self.model, door)
                .any(|l| l.mode.blocks_entry())
            {
                return Err(Denial::new(Reason::ZoneLockedDown));
            }
            let resident_of = |zone: &str| {
                pass.visitor.is_none()
                    && who.person.is_some_and(|p| p.role.lives_here())
                    && who
                        .household
                        .and_then(|h| self.model.household_zone(h))
                        .is_some_and(|home| self.model.zone_within(home, zone))
            };
            let mut crossed = self.lockdown.crossed_by(&self.model, door);
            if crossed.any(|l| l.mode == LockdownMode::ResidentsOnly && !resident_of(&l.zone)) {
                return Err(Denial::new(Reason::NotResidentOfZone));
            }
        }
        if !self.door_schedule_open(door, now) {
            return Err(Denial::new(Reason::DoorClosedBySchedule));
        }
        self.check_groups(door, pass, who, now).map_err(Denial::new)
    }

    /// Which doors the pass opens, and when. With no groups, the default rule: doors that lead
    /// towards the holder's home (a visitor's host's home), i.e. whose inside zone contains it.
    fn check_groups(
        &self,
        door: &Door,
        pass: &Pass,
        who: &Who<'_>,
        now: Timestamp,
    ) -> Result<(), Reason> {
        if pass.groups.is_empty() {
            let home = who.household.and_then(|h| self.model.household_zone(h));
            return match home {
                Some(home) if self.model.zone_within(home, &door.inside) => Ok(()),
                _ => Err(Reason::NoAccessToDoor),
            };
        }
        let groups = || pass.groups.iter().filter_map(|g| self.model.groups.get(g));
        let open = |schedule: &Option<String>| {
            schedule
                .as_deref()
                .is_none_or(|s| self.schedules.is_open(s, now, &self.model.tz))
        };
        let includes = |doors: &[String]| doors.iter().any(|d| d == "*" || *d == door.id);
        if !groups().any(|g| open(&g.schedule)) {
            return Err(Reason::OutsideSchedule);
        }
        if !groups().any(|g| includes(&g.doors)) {
            return Err(Reason::NoAccessToDoor);
        }
        if !groups().any(|g| includes(&g.doors) && open(&g.schedule)) {
            return Err(Reason::OutsideSchedule);
        }
        Ok(())
    }

    /// Step 7: on doors that verify the phone, the typed digits must match the holder's
    /// registered phone. Entries only; a signed QR token is its own proof.
    fn check_phone(&self, req: &Request<'_>, who: &Who<'_>) -> Result<bool, Denial> {
        if req.direction == Direction::Out
            || req.door.verify == Verify::Card
            || matches!(req.credential, Credential::Qr(_))
        {
            return Ok(false);
        }
        let Some(pin) = req.pin.filter(|p| !p.trim().is_empty()) else {
            return Err(Denial {
                need_pin: true,
                ..Denial::new(Reason::PhoneRequired)
            });
        };
        let digits = self.model.policy.phone_digits as usize;
        match who.person {
            Some(person) if crate::phone::digits_match(&person.phone, pin, digits) => Ok(true),
            _ => Err(Denial::new(Reason::PhoneMismatch)),
        }
    }

    /// Step 8: a pass already inside cannot enter again; one not inside cannot leave. Hard mode
    /// refuses entries; exits and soft mode let through with an alarm.
    fn check_passback(
        &self,
        req: &Request<'_>,
        pass: &Pass,
        now: Timestamp,
    ) -> Result<Option<AlarmKind>, Reason> {
        if self.model.policy.apb == ApbMode::Off {
            return Ok(None);
        }
        let Some(zone) =
            self.presence
                .zone_of(&pass.id, now, crate::presence::timeout(&self.model))
        else {
            return Ok(None);
        };
        let inside = self.model.zone_within(zone, &req.door.inside);
        let violation = match req.direction {
            Direction::In => inside,
            Direction::Out => !inside,
        };
        match (violation, self.model.policy.apb, req.direction) {
            (false, _, _) => Ok(None),
            (true, ApbMode::Hard, Direction::In) => Err(Reason::AntiPassback),
            (true, _, _) => Ok(Some(AlarmKind::AntiPassback)),
        }
    }

    /// Step 9: in `limited_exit`, a household's exits out of the locked zone since the
    /// lockdown began, within one period.
    fn check_quota(&self, req: &Request<'_>, who: &Who<'_>, now: Timestamp) -> Result<(), Reason> {
        if req.direction == Direction::In || self.lockdown.active().is_empty() {
            return Ok(());
        }
        // Visitors and staff have no household of their own: no quota.
        let Some(household) = who.person.and_then(|p| p.household.as_deref()) else {
            return Ok(());
        };
        let period_start = crate::time::saturating_sub(now, crate::quota::period(&self.model));
        for l in self.lockdown.crossed_by(&self.model, req.door) {
            if l.mode != LockdownMode::LimitedExit {
                continue;
            }
            let since = l
                .since
                .parse::<Timestamp>()
                .map_or(period_start, |s| s.max(period_start));
            if self.quotas.used(&self.model, household, &l.zone, since)
                >= self.model.policy.exit_quota
            {
                return Err(Reason::ExitQuotaExceeded);
            }
        }
        Ok(())
    }
}
