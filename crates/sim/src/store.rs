//! The simulator's state and the API's logic, free of HTTP: projects with their keys,
//! catalogs, agents and jobs; authorisation, scheduling, job lookups and run reports.
//! Every operation takes "now", so the clock is the caller's choice.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use chrono::{DateTime, Utc};
use runboard_shared::{ExecuteRequest, JobsResponse, Selector};

use crate::{
    catalog::{self, Agent, Catalog, Fate, ProjectData},
    config::SimConfig,
    error::SimError,
    job::JobRecord,
    plan::{self, PENDING_MS, wall_ms},
    report::{self, Phase, after},
    rng::{label, object_id, rng_for},
};

/// How far back "all active jobs" looks, as the guide says: the last month.
const ACTIVE_WINDOW_DAYS: i64 = 30;

/// One project's state.
#[derive(Debug)]
struct ProjectState {
    key: String,
    data: Arc<ProjectData>,
    agents: Vec<Agent>,
    jobs: Vec<JobRecord>,
    job_index: HashMap<String, usize>,
    run_index: HashMap<String, usize>,
}

impl ProjectState {
    fn catalog(&self) -> Catalog {
        let mut catalog = self.data.catalog.clone();
        catalog.agents = self.agents.clone();
        catalog
    }
}

/// What `executeTests` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Execution {
    /// A new job was queued; its id.
    Started(String),
    /// An identical execution is still queued; the id of that job.
    AlreadyQueued(String),
    /// The agent refuses starts; the platform's reason, for people.
    Refused(String),
}

/// All projects, in configuration order.
#[derive(Debug)]
pub(crate) struct Store {
    seed: u64,
    speed: f64,
    projects: Vec<(String, ProjectState)>,
}

impl Store {
    /// Builds every project's catalog from the (already clamped) configuration.
    pub(crate) fn new(config: &SimConfig) -> Self {
        let mut projects: Vec<(String, ProjectState)> = Vec::with_capacity(config.projects.len());
        for project in &config.projects {
            if projects.iter().any(|(id, _)| *id == project.id) {
                continue;
            }
            let data = catalog::generate(&project.id, config.seed, config.tests_per_project);
            let state = ProjectState {
                key: project.key.clone(),
                data: Arc::new(data),
                agents: catalog::default_agents(),
                jobs: Vec::new(),
                job_index: HashMap::new(),
                run_index: HashMap::new(),
            };
            projects.push((project.id.clone(), state));
        }
        Self {
            seed: config.seed,
            speed: config.speed,
            projects,
        }
    }

    fn project(&self, id: &str) -> Option<&ProjectState> {
        self.projects
            .iter()
            .find(|(pid, _)| pid == id)
            .map(|(_, p)| p)
    }

    fn project_mut(&mut self, id: &str) -> Option<&mut ProjectState> {
        self.projects
            .iter_mut()
            .find(|(pid, _)| pid == id)
            .map(|(_, p)| p)
    }

    /// Checks `key` against the project named in the path, or against any project when
    /// the path names none. Unknown projects get the same answer as wrong keys.
    pub(crate) fn authorize(
        &self,
        project_id: Option<&str>,
        key: Option<&str>,
    ) -> Result<(), SimError> {
        let Some(key) = key else {
            return Err(SimError::Unauthorized(
                "missing x-api-key header; send the project's API key".to_owned(),
            ));
        };
        let granted = match project_id {
            Some(id) => self.project(id).is_some_and(|p| p.key == key),
            None => self.projects.iter().any(|(_, p)| p.key == key),
        };
        if granted {
            Ok(())
        } else {
            Err(SimError::Unauthorized(
                "invalid API key for this project".to_owned(),
            ))
        }
    }

    /// `executeTests`: validates the selection and agent, reuses an identical queued
    /// job, or plans a new one (unless the agent refuses starts).
    pub(crate) fn execute(
        &mut self,
        project_id: &str,
        request: ExecuteRequest,
        now: DateTime<Utc>,
    ) -> Result<Execution, SimError> {
        let (seed, speed) = (self.seed, self.speed);
        let project = self
            .project_mut(project_id)
            .ok_or_else(|| SimError::NotFound(format!("project {project_id} does not exist")))?;
        let selection = project.data.select(&request.selector)?;
        let agent = match &request.agent_name {
            None => None,
            Some(name) => Some(find_agent(&project.agents, name.as_str())?.clone()),
        };
        if let Some(agent) = agent
            .as_ref()
            .filter(|a| a.fate == Some(Fate::RefusesStarts))
        {
            return Ok(Execution::Refused(format!(
                "agent {} is disabled for this project",
                agent.name
            )));
        }
        let request_key = (
            normalise(request.selector),
            agent.as_ref().map(|a| a.name.clone()),
        );
        let queued = project.jobs.iter().rev().find(|job| {
            job.request_key == request_key
                && matches!(
                    report::phase(job, now).0,
                    Phase::Pending | Phase::WaitingForAgent
                )
        });
        if let Some(job) = queued {
            return Ok(Execution::AlreadyQueued(job.id.clone()));
        }

        let ordinal = project.jobs.len() as u64;
        let mut rng = rng_for(seed, &[label("job"), label(project_id), ordinal]);
        let id = object_id(&mut rng);
        let run_id = object_id(&mut rng);
        let created_at = truncate_to_ms(now);
        let pending_end = after(created_at, wall_ms(PENDING_MS, speed));
        let plan = plan::plan(&project.data, &selection.tests, &mut rng, speed);
        let fate = agent.as_ref().and_then(|a| a.fate);
        let job = JobRecord {
            id: id.clone(),
            run_id: run_id.clone(),
            created_at,
            pending_end,
            run_start: agent
                .as_ref()
                .map_or(Some(pending_end), |a| run_start_for(a, pending_end, speed)),
            agent: agent.map(|a| a.name),
            fate,
            title: selection.title,
            request_key,
            plan: Arc::new(plan),
            final_report: Arc::default(),
        };
        let index = project.jobs.len();
        project.job_index.insert(id.clone(), index);
        project.run_index.insert(run_id, index);
        project.jobs.push(job);
        Ok(Execution::Started(id))
    }

    /// `POST /api/jobs`: the listed jobs (ids not found go to `missingJobIds`), or
    /// without a list every active job created in the last month.
    pub(crate) fn jobs(
        &self,
        project_id: &str,
        job_ids: Option<Vec<String>>,
        now: DateTime<Utc>,
    ) -> Result<JobsResponse, SimError> {
        let project = self
            .project(project_id)
            .ok_or_else(|| SimError::NotFound(format!("project {project_id} does not exist")))?;
        let mut response = JobsResponse {
            success: true,
            ..JobsResponse::default()
        };
        match job_ids {
            Some(ids) => {
                let mut seen = HashSet::with_capacity(ids.len());
                for id in ids.into_iter().filter(|id| seen.insert(id.clone())) {
                    match project.job_index.get(&id) {
                        Some(&index) => response
                            .jobs
                            .push(report::job_view(&project.jobs[index], now)),
                        None => response.missing_job_ids.push(id),
                    }
                }
            }
            None => {
                let since = now - chrono::Duration::days(ACTIVE_WINDOW_DAYS);
                response.jobs = project
                    .jobs
                    .iter()
                    .filter(|job| job.created_at >= since)
                    .filter(|job| !report::phase(job, now).0.is_final())
                    .map(|job| report::job_view(job, now))
                    .collect();
            }
        }
        Ok(response)
    }

    /// The job owning run `run_id` and its project's catalog, if the run exists at
    /// `now`. The report itself is built by the caller, outside the lock.
    pub(crate) fn run(
        &self,
        project_id: &str,
        run_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(JobRecord, Arc<ProjectData>), SimError> {
        let not_found =
            || SimError::NotFound(format!("test run {run_id} was not found in this project"));
        let project = self.project(project_id).ok_or_else(not_found)?;
        let index = *project.run_index.get(run_id).ok_or_else(not_found)?;
        let job = &project.jobs[index];
        if job.run_start.is_none_or(|start| start > now) {
            return Err(not_found());
        }
        Ok((job.clone(), Arc::clone(&project.data)))
    }

    /// One project's catalog with live agent states.
    pub(crate) fn catalog(&self, project_id: &str) -> Option<Catalog> {
        self.project(project_id).map(ProjectState::catalog)
    }

    /// Every project's catalog, in configuration order.
    pub(crate) fn catalogs(&self) -> Vec<Catalog> {
        self.projects.iter().map(|(_, p)| p.catalog()).collect()
    }

    /// Connects or disconnects an agent, moving the start of the jobs that wait for it.
    /// Returns whether the project and agent exist.
    pub(crate) fn set_agent(
        &mut self,
        project_id: &str,
        name: &str,
        connected: bool,
        now: DateTime<Utc>,
    ) -> bool {
        let speed = self.speed;
        let Some(project) = self.project_mut(project_id) else {
            return false;
        };
        let Some(agent) = project.agents.iter_mut().find(|a| a.name == name) else {
            return false;
        };
        agent.connected = connected;
        let agent = agent.clone();
        for job in project
            .jobs
            .iter_mut()
            .filter(|j| j.agent.as_deref() == Some(name) && j.fate.is_none())
        {
            if job.run_start.is_some_and(|start| start <= now) {
                continue; // Started runs carry on whatever the agent does now.
            }
            let ready = job.pending_end.max(truncate_to_ms(now));
            job.run_start = run_start_for(&agent, ready, speed);
        }
        true
    }
}

/// When a job whose agent is looked for at `ready` starts: at once if the agent is
/// connected, after its wake-up delay if it wakes on demand, otherwise not yet.
fn run_start_for(agent: &Agent, ready: DateTime<Utc>, speed: f64) -> Option<DateTime<Utc>> {
    if agent.fate.is_some() {
        return None; // Its jobs end without a run.
    }
    if agent.connected {
        return Some(ready);
    }
    agent
        .connects_after_ms
        .map(|ms| after(ready, wall_ms(ms, speed)))
}

fn find_agent<'a>(agents: &'a [Agent], name: &str) -> Result<&'a Agent, SimError> {
    agents.iter().find(|a| a.name == name).ok_or_else(|| {
        let known: Vec<&str> = agents.iter().map(|a| a.name.as_str()).collect();
        SimError::UnknownAgent(format!(
            "agentName {name:?} is not an agent of this project; known agents: {}",
            known.join(", ")
        ))
    })
}

/// The same execution whatever the order of a custom list.
fn normalise(selector: Selector) -> Selector {
    match selector {
        Selector::Tests(mut ids) => {
            ids.sort();
            Selector::Tests(ids)
        }
        other => other,
    }
}

/// Whole milliseconds, the precision of every reported instant.
fn truncate_to_ms(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or(at)
}
