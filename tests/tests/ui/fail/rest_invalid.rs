use b24::b24_method;

#[b24_method("tasks.task.get", response = bool, rest = 4)]
pub struct TaskGet {
    pub id: i64,
}

#[b24_method("tasks.task.list", response = bool, rest = 3.0)]
pub struct TaskList {}

fn main() {}
