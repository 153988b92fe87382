# A fleet with pgcred's Terraform provider: many databases, each with its own
# credentials and apps, from one map. From the repository root:
#
#   npm run provider:install
#   export TF_CLI_CONFIG_FILE=$PWD/.terraform-mirror/terraform.rc
#   export PGCRED_MASTER_KEY=$(openssl rand -hex 32)   # keep it: it decrypts the stored passwords
#   cd examples/terraform-fleet && cp example.tfvars fleet.auto.tfvars   # then set the URLs
#   terraform init && terraform apply

terraform {
  required_providers {
    pgcred = {
      source  = "pgcred/pgcred"
      version = "0.1.0"
    }
  }
}

variable "databases" {
  description = <<-EOT
    The fleet, by database name: its admin URL (a superuser, or a CREATEROLE role that
    owns it), an optional color, username prefix and credential limit, its credentials (name => none,
    read-only or read-write) and its apps (app name => the credential it gets as DATABASE_URL).
  EOT
  type = map(object({
    url              = string
    color            = optional(string)
    username_prefix  = optional(string)
    credential_limit = optional(number)
    credentials      = optional(map(string), {})
    apps             = optional(map(string), {})
  }))
  # The URLs hold admin passwords. for_each cannot take a sensitive value, so the
  # locals below take out the URL and drop the mark from what is left (names and levels).
  sensitive = true
}

locals {
  # One entry per database and credential: "db17/analyst" => { database, name, permission }.
  credentials = nonsensitive(merge([
    for db, spec in var.databases : {
      for name, permission in spec.credentials :
      "${db}/${name}" => { database = db, name = name, permission = permission }
    }
  ]...))

  # One entry per app: an app belongs to one database and receives one of its credentials.
  apps = nonsensitive(merge([
    for db, spec in var.databases : {
      for app, credential in spec.apps :
      app => { database = db, credential = credential }
    }
  ]...))

  # The databases that list each app: merge above keeps only the last.
  app_databases = nonsensitive(transpose({ for db, spec in var.databases : db => keys(spec.apps) }))
}

provider "pgcred" {
  # The control store defaults to the first database block (PGCRED_CONTROL_URL or
  # control_url name another); one store serves the whole fleet.
  dynamic "database" {
    for_each = var.databases
    content {
      name  = database.key
      url   = database.value.url
      color = database.value.color
      # Roles are cluster-wide: with a prefix, databases of one cluster can each have an
      # analyst (db17_analyst, db18_analyst). Without one, their credential names must differ.
      username_prefix  = database.value.username_prefix
      credential_limit = database.value.credential_limit
    }
  }
}

resource "pgcred_credential" "this" {
  for_each   = local.credentials
  database   = each.value.database
  name       = each.value.name
  permission = each.value.permission
}

resource "pgcred_app" "this" {
  for_each = local.apps
  name     = each.key
  env_file = "run/${each.key}.env"

  lifecycle {
    precondition {
      # Checked here rather than on the variable: a failed variable validation prints
      # the lines of the tfvars file, admin URLs included.
      condition     = length(local.app_databases[each.key]) == 1
      error_message = "App ${each.key} is listed under databases ${join(", ", local.app_databases[each.key])}: an app's DATABASE_URL is one credential of one database."
    }
  }
}

resource "pgcred_attachment" "this" {
  for_each = local.apps
  database = each.value.database
  # Through the credential resource, so Terraform creates it first; `default` (the
  # database owner) is no resource.
  credential = try(pgcred_credential.this["${each.value.database}/${each.value.credential}"].name, each.value.credential)
  app        = pgcred_app.this[each.key].name
}

output "usernames" {
  description = "The login of each credential, by database/credential."
  value       = { for key, credential in pgcred_credential.this : key => credential.username }
}
