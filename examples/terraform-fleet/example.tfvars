# Copy to fleet.auto.tfvars (Terraform reads *.auto.tfvars by itself) and set the URLs;
# keep that file out of version control: it holds admin passwords.
databases = {
  # Two databases of one cluster: each has an analyst, kept apart by its prefix.
  db17 = {
    url             = "postgres://postgres:secret@eu-1.example.com:5432/db17"
    color           = "CYAN"
    username_prefix = "db17_"
    credentials     = { analyst = "read-only", billing = "read-write" }
    apps            = { "billing-17" = "billing" } # billing-17's DATABASE_URL logs in as db17_billing
  }
  db18 = {
    url             = "postgres://postgres:secret@eu-1.example.com:5432/db18"
    username_prefix = "db18_"
    credentials     = { analyst = "read-only", reporter = "none" }
  }
  # A database of another cluster: no other database there, so no prefix is needed.
  db40 = {
    url         = "postgres://postgres:secret@us-1.example.com:5432/db40"
    credentials = { analyst = "read-write" }
    apps        = { "reports-40" = "analyst" }
  }
}
