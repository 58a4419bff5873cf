//! The parts of `cargo metadata` the tasks read: packages with their licenses, targets
//! and declared dependencies, and the resolved dependency graph.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{self, Error};

/// Which table of a manifest a dependency comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepKind {
    Normal,
    Dev,
    Build,
}

impl DepKind {
    fn from_json(v: &Value) -> DepKind {
        match v.as_str() {
            Some("dev") => DepKind::Dev,
            Some("build") => DepKind::Build,
            _ => DepKind::Normal,
        }
    }
}

/// A dependency as a manifest declares it.
#[derive(Debug, Clone)]
pub struct DeclaredDep {
    pub name: String,
    pub kind: DepKind,
}

/// A build target of a package.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub kinds: Vec<String>,
    pub src_path: PathBuf,
}

#[derive(Debug, Clone)]
pub struct Package {
    pub id: String,
    pub name: String,
    pub version: String,
    /// The SPDX expression of `license`, if the manifest has one.
    pub license: Option<String>,
    pub license_file: Option<String>,
    pub manifest_path: PathBuf,
    /// `false` when the manifest says `publish = false` (or an empty registry list).
    pub publishable: bool,
    pub targets: Vec<Target>,
    pub dependencies: Vec<DeclaredDep>,
}

/// One resolved edge of the dependency graph.
#[derive(Debug, Clone)]
pub struct Edge {
    pub to: String,
    pub kinds: Vec<DepKind>,
}

#[derive(Debug)]
pub struct Metadata {
    pub target_directory: PathBuf,
    /// Every package of the resolved graph, workspace members included.
    pub packages: Vec<Package>,
    /// Ids of the workspace members, in manifest order.
    pub members: Vec<String>,
    edges: HashMap<String, Vec<Edge>>,
}

impl Metadata {
    /// Runs `cargo metadata` with every feature of the workspace members enabled, so
    /// that optional dependencies are checked too. Tries offline first: the lock file
    /// and the local registry cache normally have everything.
    pub fn load(root: &Path) -> Result<Metadata, Error> {
        let base = ["metadata", "--format-version", "1", "--all-features"];
        let text = match util::output(util::cargo(root).args(base).arg("--offline")) {
            Ok(t) => t,
            Err(_) => util::output(util::cargo(root).args(base))?,
        };
        let json: Value = serde_json::from_str(&text)
            .map_err(|e| Error::new(format!("cannot parse `cargo metadata` output: {e}")))?;
        Metadata::from_json(&json)
    }

    pub fn from_json(json: &Value) -> Result<Metadata, Error> {
        let bad = |what: &str| Error::new(format!("unexpected `cargo metadata` output: {what}"));
        let str_of = |v: &Value, key: &str| -> Result<String, Error> {
            v.get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| bad(&format!("no string {key:?}")))
        };
        let array = |v: &'_ Value, key: &str| -> Result<Vec<Value>, Error> {
            v.get(key)
                .and_then(Value::as_array)
                .cloned()
                .ok_or_else(|| bad(&format!("no array {key:?}")))
        };

        let mut packages = Vec::new();
        for p in array(json, "packages")? {
            let targets = array(&p, "targets")?
                .iter()
                .map(|t| {
                    Ok(Target {
                        name: str_of(t, "name")?,
                        kinds: array(t, "kind")?
                            .iter()
                            .filter_map(|k| k.as_str().map(str::to_owned))
                            .collect(),
                        src_path: PathBuf::from(str_of(t, "src_path")?),
                    })
                })
                .collect::<Result<_, Error>>()?;
            let dependencies = array(&p, "dependencies")?
                .iter()
                .map(|d| {
                    Ok(DeclaredDep {
                        name: str_of(d, "name")?,
                        kind: DepKind::from_json(&d["kind"]),
                    })
                })
                .collect::<Result<_, Error>>()?;
            packages.push(Package {
                id: str_of(&p, "id")?,
                name: str_of(&p, "name")?,
                version: str_of(&p, "version")?,
                license: p["license"].as_str().map(str::to_owned),
                license_file: p["license_file"].as_str().map(str::to_owned),
                manifest_path: PathBuf::from(str_of(&p, "manifest_path")?),
                publishable: !matches!(p["publish"].as_array(), Some(a) if a.is_empty()),
                targets,
                dependencies,
            });
        }

        let members = array(json, "workspace_members")?
            .iter()
            .filter_map(|m| m.as_str().map(str::to_owned))
            .collect();

        let resolve = json
            .get("resolve")
            .filter(|r| !r.is_null())
            .ok_or_else(|| bad("no \"resolve\""))?;
        let mut edges = HashMap::new();
        for node in array(resolve, "nodes")? {
            let deps = array(&node, "deps")?
                .iter()
                .map(|d| {
                    Ok(Edge {
                        to: str_of(d, "pkg")?,
                        kinds: array(d, "dep_kinds")?
                            .iter()
                            .map(|k| DepKind::from_json(&k["kind"]))
                            .collect(),
                    })
                })
                .collect::<Result<_, Error>>()?;
            edges.insert(str_of(&node, "id")?, deps);
        }

        Ok(Metadata {
            target_directory: PathBuf::from(str_of(json, "target_directory")?),
            packages,
            members,
            edges,
        })
    }

    pub fn package_by_id(&self, id: &str) -> Option<&Package> {
        self.packages.iter().find(|p| p.id == id)
    }

    /// The workspace members, in manifest order.
    pub fn workspace_packages(&self) -> impl Iterator<Item = &Package> {
        self.members.iter().filter_map(|id| self.package_by_id(id))
    }

    /// The workspace member called `name`.
    pub fn member(&self, name: &str) -> Result<&Package, Error> {
        self.workspace_packages()
            .find(|p| p.name == name)
            .ok_or_else(|| Error::new(format!("no workspace member named {name}")))
    }

    /// Every package reachable from `id` through edges of one of `kinds` (`id` itself
    /// excluded), each with the chain of package names that leads to it from `id`.
    pub fn reachable(&self, id: &str, kinds: &[DepKind]) -> Vec<(&Package, Vec<String>)> {
        let mut parent: HashMap<&str, &str> = HashMap::new();
        let mut order = Vec::new();
        let mut queue = VecDeque::from([id]);
        while let Some(next) = queue.pop_front() {
            for e in self.edges.get(next).into_iter().flatten() {
                let to = e.to.as_str();
                if to != id && e.kinds.iter().any(|k| kinds.contains(k)) && !parent.contains_key(to)
                {
                    parent.insert(to, next);
                    order.push(to);
                    queue.push_back(to);
                }
            }
        }
        let name = |id: &str| {
            self.package_by_id(id)
                .map_or(id.to_owned(), |p| p.name.clone())
        };
        order
            .into_iter()
            .filter_map(|to| {
                let mut chain = vec![name(to)];
                let mut at = to;
                while let Some(&up) = parent.get(at) {
                    chain.push(name(up));
                    at = up;
                }
                chain.reverse();
                Some((self.package_by_id(to)?, chain))
            })
            .collect()
    }

    /// The publishable workspace members, each after the members it depends on (normal
    /// and build dependencies: the ones a published crate needs from the registry).
    pub fn publish_order(&self) -> Result<Vec<&Package>, Error> {
        let publishable: Vec<&Package> = self
            .workspace_packages()
            .filter(|p| p.publishable)
            .collect();
        let internal_deps = |p: &Package| -> Vec<String> {
            self.edges
                .get(&p.id)
                .into_iter()
                .flatten()
                .filter(|e| e.kinds.iter().any(|k| *k != DepKind::Dev))
                .filter(|e| self.members.contains(&e.to))
                .map(|e| e.to.clone())
                .collect()
        };
        let mut order: Vec<&Package> = Vec::new();
        while order.len() < publishable.len() {
            let before = order.len();
            for p in &publishable {
                if order.iter().any(|o| o.id == p.id) {
                    continue;
                }
                let ready = internal_deps(p)
                    .iter()
                    .all(|d| order.iter().any(|o| &o.id == d));
                if ready {
                    order.push(p);
                }
            }
            if order.len() == before {
                return Err(Error::new(
                    "cannot order the publishable crates: a publishable crate depends on \
                     an unpublishable workspace member, or the graph has a cycle",
                ));
            }
        }
        Ok(order)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_order_puts_dependencies_first() {
        let meta = Metadata::load(&util::project_root()).unwrap();
        let order: Vec<&str> = meta
            .publish_order()
            .unwrap()
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert!(!order.contains(&"xtask"), "{order:?}");
        assert_eq!(order.first(), Some(&"segura-model"), "{order:?}");
        for p in meta.publish_order().unwrap() {
            let pos = order.iter().position(|n| *n == p.name).unwrap();
            for dep in &p.dependencies {
                if dep.kind != DepKind::Dev && dep.name.starts_with("segura-") {
                    let dep_pos = order.iter().position(|n| *n == dep.name).unwrap();
                    assert!(dep_pos < pos, "{} before {}: {order:?}", dep.name, p.name);
                }
            }
        }
    }
}
