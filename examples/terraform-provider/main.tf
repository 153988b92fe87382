# pgcred's own Terraform provider, without CDKTF: credentials as Terraform resources,
# backed by pgcred's reconciler. From the repository root:
#
#   npm run provider:install
#   export TF_CLI_CONFIG_FILE=$PWD/.terraform-mirror/terraform.rc
#   export PGCRED_MASTER_KEY=$(openssl rand -hex 32)   # keep it: it decrypts the stored passwords
#   export TF_VAR_admin_url=postgres://postgres:secret@localhost:5432/app
#   cd examples/terraform-provider && terraform init && terraform apply

terraform {
  required_providers {
    pgcred = {
      source  = "pgcred/pgcred"
      version = "0.1.0"
    }
  }
}

variable "admin_url" {
  description = "Admin URL of the database: a superuser, or a CREATEROLE role that owns it."
  type        = string
  sensitive   = true
}

provider "pgcred" {
  # control_url, master_key and key_file default to PGCRED_CONTROL_URL, PGCRED_MASTER_KEY and
  # .pgcred/master.key; the control store defaults to the first database.
  database {
    name = "postgresql-sunny-1234"
    url  = var.admin_url
    plan = "standard-0"
  }
}

resource "pgcred_credential" "analyst" {
  database   = "postgresql-sunny-1234"
  name       = "analyst"
  permission = "read-only"
}

resource "pgcred_credential" "billing" {
  database   = "postgresql-sunny-1234"
  name       = "billing"
  permission = "read-write"

  rotation {
    every = "90d"
    grace = "30m"
  }
}

resource "pgcred_credential" "limited_user" {
  database = "postgresql-sunny-1234"
  name     = "limited_user"

  grant {
    privileges = ["SELECT"]
    on         = "all-tables"
    objects    = ["public"]
  }
  grant {
    privileges = ["SELECT"]
    on         = "default-tables"
    objects    = ["public"]
  }
}

# An app receives credentials as config vars in its env file (mode 0600), and is restarted.
resource "pgcred_app" "example" {
  name     = "example-app"
  env_file = "run/example-app.env"
}

# The app's first attachment is DATABASE_URL; the next gets HEROKU_POSTGRESQL_<COLOR>_URL.
resource "pgcred_attachment" "example_analyst" {
  database   = "postgresql-sunny-1234"
  credential = pgcred_credential.analyst.name
  app        = pgcred_app.example.name
}

resource "pgcred_attachment" "example_billing" {
  database   = "postgresql-sunny-1234"
  credential = pgcred_credential.billing.name
  app        = pgcred_app.example.name
  as         = "BILLING" # BILLING_URL
}

# Read after the credential exists (depends_on), as `pgcred credentials:url` prints it.
data "pgcred_credential_url" "analyst" {
  database   = "postgresql-sunny-1234"
  name       = pgcred_credential.analyst.name
  depends_on = [pgcred_credential.analyst]
}

output "analyst_url" {
  value     = data.pgcred_credential_url.analyst.url
  sensitive = true
}
