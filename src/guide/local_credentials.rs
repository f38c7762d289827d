//! Credentials as the admin's own machine holds them (the AWS CLI's keys or files, a GCP
//! service-account key, a cloud CLI's file), turned into what `creds add` stores: the Secret's
//! marks, its data, and where each part was found, for the admin to recognise.

use std::collections::BTreeMap;
use std::path::Path;

use crate::credentials::{Kind, Stored};

use super::host::Host;
use super::{aws_credentials, cloud_keys, gcp_credentials};

/// A cloud whose CLI keeps its credentials in a file or two.
pub fn cloud(
    kind: Kind,
    request: cloud_keys::CloudRequest,
    host: &Host<'_>,
) -> Result<Found, cloud_keys::CloudKeyError> {
    let credentials = cloud_keys::read(kind, &request, host)?;
    Ok(Found {
        stored: Stored {
            tenant_id: credentials.tenant_id,
            ..Stored::new(kind, kind.default_secret())
        },
        data: credentials.data,
        from: credentials.from,
    })
}

/// Local credentials ready to store: the Secret, its data, and where they were found.
pub struct Found {
    pub stored: Stored,
    pub data: BTreeMap<String, String>,
    pub from: String,
}

/// How `creds add aws` stores the keys: which Secret, under which keys, or the AWS CLI's files
/// whole.
pub struct AwsLayout {
    pub secret: String,
    pub credentials_file: bool,
    pub names: aws_credentials::KeyNames,
}

impl Default for AwsLayout {
    fn default() -> Self {
        AwsLayout {
            secret: aws_credentials::SECRET_NAME.into(),
            credentials_file: false,
            names: aws_credentials::KeyNames::default(),
        }
    }
}

pub fn aws(
    request: aws_credentials::AwsRequest<'_>,
    layout: AwsLayout,
    host: &Host<'_>,
) -> Result<Found, aws_credentials::AwsCredentialsError> {
    // Only what differs from the chart's defaults, so that the seed-era chart, which has none
    // of these values, still takes the default layout.
    let mut settings = serde_json::Map::new();
    let (data, from) = if layout.credentials_file {
        let files = aws_credentials::read_files(host)?;
        settings.insert("useCredentialsFile".into(), true.into());
        let paths: Vec<String> = files
            .paths
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        (
            files.secret_data(),
            format!("AWS files {}, every profile", paths.join(" and ")),
        )
    } else {
        let credentials = aws_credentials::resolve(request, host)?;
        let defaults = aws_credentials::KeyNames::default();
        if layout.names.access_key_id != defaults.access_key_id {
            settings.insert(
                "accessKeyIdKeyName".into(),
                layout.names.access_key_id.clone().into(),
            );
        }
        if layout.names.secret_access_key != defaults.secret_access_key {
            settings.insert(
                "secretAccessKeyKeyName".into(),
                layout.names.secret_access_key.clone().into(),
            );
        }
        (
            credentials.secret_data(&layout.names),
            format!(
                "AWS access key id from {}, secret access key from {}",
                credentials.access_key_id_origin, credentials.secret_access_key_origin
            ),
        )
    };
    Ok(Found {
        stored: Stored {
            settings,
            ..Stored::new(Kind::Aws, layout.secret)
        },
        data,
        from,
    })
}

pub fn gcp(
    key_file: &Path,
    project: Option<&str>,
    host: &Host<'_>,
) -> Result<Found, gcp_credentials::GcpCredentialsError> {
    let credentials = gcp_credentials::load(key_file, project, host)?;
    let source = match credentials.project_from {
        gcp_credentials::ProjectFrom::Argument => "from --project",
        gcp_credentials::ProjectFrom::KeyFile => "from the key file",
    };
    Ok(Found {
        stored: Stored {
            project: Some(credentials.project_id.clone()),
            ..Stored::new(Kind::Gcp, gcp_credentials::SECRET_NAME)
        },
        data: credentials.secret_data(),
        from: format!(
            "GCP service account {} in {} for project {} ({source})",
            credentials.client_email,
            key_file.display(),
            credentials.project_id
        ),
    })
}
