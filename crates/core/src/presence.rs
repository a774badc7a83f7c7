//! Who is inside which zone, for anti-passback and the live head count. Rebuilt from the log
//! at start-up; forgotten after `apb_timeout`.

use crate::event::Event;
use crate::model::Model;

#[derive(Default)]
pub struct Presence {}

impl Presence {
    pub fn replay(&mut self, _event: &Event, _model: &Model) {}
}
